"""The A/B verdict's statistics (services/ab_stats.py) against values worked out independently:
by hand from the pooled formula, from a normal table, and from the standard library's NormalDist."""
from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from smsdesk.services.ab_stats import NOT_YET, p_value_text, two_proportion_z_test, verdict


def test_a_worked_example():
    # 100 of 1,000 vs 130 of 1,000: pooled p = 230/2000 = 0.115,
    # SE = sqrt(0.115 * 0.885 * (1/1000 + 1/1000)) = 0.014267, z = 0.03 / 0.014267 = 2.103;
    # a normal table gives 2 * (1 - 0.9821) = 0.0358 for z = 2.10.
    result = two_proportion_z_test(100, 1000, 130, 1000)
    assert result.z == pytest.approx(2.1027, abs=1e-4)
    assert result.p_value == pytest.approx(0.0357, abs=5e-4)


@pytest.mark.parametrize("a, n_a, b, n_b", [(100, 1000, 130, 1000), (60, 400, 45, 400), (7, 150, 19, 180),
                                            (500, 5000, 500, 5000)])
def test_agrees_with_the_standard_librarys_normal_distribution(a, n_a, b, n_b):
    pooled = (a + b) / (n_a + n_b)
    z = (b / n_b - a / n_a) / math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    result = two_proportion_z_test(a, n_a, b, n_b)
    assert result.z == pytest.approx(z)
    assert result.p_value == pytest.approx(2 * (1 - NormalDist().cdf(abs(z))), abs=1e-9)


def test_the_5_percent_line_sits_at_z_1_96():
    # 1.959964 is the two-sided 5 % point; erfc(1.959964 / sqrt 2) = 0.05.
    assert math.erfc(NormalDist().inv_cdf(0.975) / math.sqrt(2)) == pytest.approx(0.05)


def test_nothing_to_tell_apart_when_no_one_or_everyone_recovered():
    assert two_proportion_z_test(0, 200, 0, 200).p_value == 1.0
    assert two_proportion_z_test(200, 200, 200, 200).p_value == 1.0
    with pytest.raises(ValueError):
        two_proportion_z_test(0, 0, 1, 10)


def test_a_clear_winner_is_named_with_its_p_value():
    found = verdict(100, 1000, 130, 1000)
    assert found.significant and found.headline == "B recovers more carts than A (p = 0.035)"
    assert "z-test on the cart recovery rate" in found.why
    assert verdict(130, 1000, 100, 1000).headline == "A recovers more carts than B (p = 0.035)"


@pytest.mark.parametrize("counts, why", [
    ((10, 50, 30, 99), "too few texts so far: A 50, B 99; at least 100 each"),
    ((1, 200, 3, 200), "too few recovered carts to compare"),  # expected recoveries 2 < 5
    ((50, 500, 55, 500), "the difference could be chance (p = 0.61; below 0.05 is needed)"),
])
def test_not_yet_significant_says_why(counts, why):
    found = verdict(*counts)
    assert (found.significant, found.headline) == (False, NOT_YET)
    assert why in found.why


def test_p_values_read_plainly():
    assert [p_value_text(p) for p in (0.0123, 0.05, 0.6060, 0.0004)] == ["p = 0.012", "p = 0.05", "p = 0.61",
                                                                        "p < 0.001"]
