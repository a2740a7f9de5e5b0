"""The one list of reason codes: unique, labelled, and all listed in README."""
import re
from pathlib import Path

from smsdesk.reasons import Reason

README = Path(__file__).resolve().parents[1] / "README.md"


def test_codes_are_unique_short_and_labelled():
    codes = [r.value for r in Reason]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z0-9_]{3,40}", code) for code in codes)
    assert all(r.label and r.label[0].islower() for r in Reason)


def test_readme_lists_every_code_with_its_label():
    text = README.read_text()
    missing = [r.value for r in Reason if f"| `{r.value}` | {r.label} |" not in text]
    assert missing == []


def test_parse_accepts_codes_only():
    assert Reason.parse("opted_out") is Reason.OPTED_OUT
    assert Reason.parse("opted out") is None and Reason.parse("") is None
