"""Tests leave the checkout as they found it: screenshots go to an ignored folder unless
--update-screenshots asks for the tracked ones, and installing Chromium is the setup script's
job (scripts/setup-browser, run by scripts/test), never a test's."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, SCREENSHOTS_SCRATCH, SCREENSHOTS_TRACKED


def test_screenshots_go_to_an_ignored_folder_by_default(screenshots, request):
    if request.config.getoption("--update-screenshots"):
        assert screenshots == SCREENSHOTS_TRACKED
        return
    assert screenshots == SCREENSHOTS_SCRATCH and SCREENSHOTS_TRACKED not in (screenshots, *screenshots.parents)
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", str(screenshots / "inbox.png")], cwd=REPO, check=False)
    assert ignored.returncode == 0, f"{screenshots} is not ignored by git"


def test_no_test_installs_packages():
    offenders = [str(path.relative_to(REPO)) for path in (REPO / "tests").rglob("*.py")
                 if path.name != Path(__file__).name and "apt-get" in path.read_text()]
    assert offenders == []


def test_the_test_script_sets_up_the_browser_first():
    script = (REPO / "scripts" / "test").read_text()
    assert script.index("./scripts/setup-browser") < script.index("pytest")
    setup = (REPO / "scripts" / "setup-browser").read_text()
    assert "apt-get install -y -q chromium chromium-driver" in setup and "id -u" in setup
