"""The Cox-index small-sample question: what evidence-kit computes, pinned.

evidence-kit (``evidence_kit.cox_index``, in conversions.py) computes

    d_Cox = omega * [ln(p_i / (1 - p_i)) - ln(p_c / (1 - p_c))] / 1.65,  omega = 1 - 3 / (4N - 9),

i.e. with the small-sample correction omega that the WWC applies to Hedges' g (which the WWC's
own computed effect sizes confirm for g: tests/test_wwc_handbook.py). That the WWC applies omega
to the Cox index too is settled by the WWC's own computed numbers, not by the handbook text (whose
passages could not be read with the search tools): finding 28178 of the WWC study-review data
(Snipes et al. 2015, a dichotomous outcome whose effect size the WWC computed from the two
proportions) is reproduced with omega and missed without it (tests/test_wwc_cox_data.py; sources
and the disagreeing secondary sources in ``evidence_kit.certainty.wwc``'s module docstring).
These tests pin the current default (omega applied) so any change to it is deliberate;
``small_sample=False`` gives the index without omega, which differs by exactly the factor omega.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import evidence_kit as ek
from evidence_kit.certainty.wwc import baseline_equivalence


def _cox_with_omega(p1, p2, n1, n2):
    omega = 1 - 3 / (4 * (n1 + n2) - 9)
    return omega * (math.log(p1 / (1 - p1)) - math.log(p2 / (1 - p2))) / 1.65


@pytest.mark.parametrize(("p1", "p2", "n1", "n2"), [(0.6, 0.5, 20, 20), (0.3, 0.25, 115, 115), (0.9, 0.7, 8, 12)])
def test_cox_index_applies_the_small_sample_correction(p1, p2, n1, n2):
    got = ek.cox_index(p1, p2, n1, n2)
    assert got == pytest.approx(_cox_with_omega(p1, p2, n1, n2), rel=1e-12)
    without = (math.log(p1 / (1 - p1)) - math.log(p2 / (1 - p2))) / 1.65
    assert got != pytest.approx(without, rel=1e-6)  # the omega-free variant is not what we compute


def test_omega_can_move_a_baseline_difference_across_a_band():
    # a difference just above 0.05 without omega falls within 0.05 once omega is applied (N = 40)
    n1 = n2 = 20
    omega = 1 - 3 / (4 * 40 - 9)
    p2 = 0.5
    target = 0.0505  # without omega
    lor = target * 1.65
    p1 = 1 / (1 + math.exp(-(lor + math.log(p2 / (1 - p2)))))
    d = ek.cox_index(p1, p2, n1, n2)
    assert d == pytest.approx(omega * target, rel=1e-10)
    np.testing.assert_array_equal(baseline_equivalence([target, d]), ["adjustment required", "satisfied"])


@pytest.mark.parametrize(("p1", "p2", "n1", "n2"), [(0.6, 0.5, 20, 20), (0.3, 0.25, 115, 115)])
def test_cox_index_without_the_small_sample_correction(p1, p2, n1, n2):
    without = (math.log(p1 / (1 - p1)) - math.log(p2 / (1 - p2))) / 1.65
    assert ek.cox_index(p1, p2, n1, n2, small_sample=False) == pytest.approx(without, rel=1e-12)
    omega = 1 - 3 / (4 * (n1 + n2) - 9)
    assert ek.cox_index(p1, p2, n1, n2) == pytest.approx(omega * ek.cox_index(p1, p2, n1, n2, small_sample=False),
                                                          rel=1e-12)
    with pytest.raises(TypeError):
        ek.cox_index(p1, p2, n1, n2, False)  # keyword-only: a positional flag is an error, not a silent choice
