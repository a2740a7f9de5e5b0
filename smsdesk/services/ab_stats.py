"""Is an A/B test's difference more than chance? A two-proportion z-test on the recovery rate.

Pure functions, no database: services/ab_results.py counts, this judges. The test is the
textbook pooled one for comparing two proportions: z = (p_B - p_A) / sqrt(p (1 - p) (1/n_A + 1/n_B))
with p the pooled rate, two-sided p-value = erfc(|z| / sqrt 2). Its normal approximation holds
only with enough texts and enough recoveries on both sides, so below those the verdict is "not
yet significant" whatever p says.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

METRIC = "cart recovery rate"  # what the verdict compares: recovered carts / texts sent
SIGNIFICANCE = 0.05  # two-sided
MIN_TEXTS = 100  # per version, before any verdict
MIN_EXPECTED = 5  # expected recovered and not-recovered carts per version (the usual rule of thumb)
NOT_YET = "Not yet significant"


@dataclass(frozen=True)
class ZTest:
    z: float
    p_value: float  # two-sided


@dataclass(frozen=True)
class Verdict:
    significant: bool
    headline: str  # "Not yet significant", "B recovers more carts than A (p = 0.012)"
    why: str  # what the headline rests on, in words
    metric: str = METRIC
    z: float | None = None
    p_value: float | None = None


def two_proportion_z_test(successes_a: int, n_a: int, successes_b: int, n_b: int) -> ZTest:
    """The pooled two-proportion z-test of B against A (z > 0: B's rate is higher)."""
    if n_a <= 0 or n_b <= 0:
        raise ValueError("both groups need at least one trial")
    pooled = (successes_a + successes_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if spread == 0:  # no one recovered, or everyone did: nothing tells the versions apart
        return ZTest(0.0, 1.0)
    z = (successes_b / n_b - successes_a / n_a) / spread
    return ZTest(z, math.erfc(abs(z) / math.sqrt(2)))


def verdict(recovered_a: int, sent_a: int, recovered_b: int, sent_b: int) -> Verdict:
    """What the owner reads under the results: a winner only when the test can tell."""
    if min(sent_a, sent_b) < MIN_TEXTS:
        return Verdict(False, NOT_YET, f"too few texts so far: A {sent_a}, B {sent_b}; "
                                       f"at least {MIN_TEXTS} each are needed before comparing")
    pooled = (recovered_a + recovered_b) / (sent_a + sent_b)
    expected = min(n * share for n in (sent_a, sent_b) for share in (pooled, 1 - pooled))
    if expected < MIN_EXPECTED:
        return Verdict(False, NOT_YET, f"too few recovered carts to compare: each version needs at least "
                                       f"{MIN_EXPECTED} expected recoveries (and carts not recovered)")
    test = two_proportion_z_test(recovered_a, sent_a, recovered_b, sent_b)
    p_text = p_value_text(test.p_value)
    if test.p_value >= SIGNIFICANCE:
        return Verdict(False, NOT_YET, f"the difference could be chance ({p_text}; below {SIGNIFICANCE} "
                                       f"is needed)", z=test.z, p_value=test.p_value)
    better, worse = ("B", "A") if test.z > 0 else ("A", "B")
    return Verdict(True, f"{better} recovers more carts than {worse} ({p_text})",
                   f"two-proportion z-test on the {METRIC}: z = {test.z:.2f}", z=test.z, p_value=test.p_value)


def p_value_text(p_value: float) -> str:
    """``p = 0.012`` (two significant digits), or ``p < 0.001``."""
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.2g}"
