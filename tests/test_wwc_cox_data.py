"""The Cox index with omega, checked against the WWC's own computed effect size of a dichotomous outcome.

Source: the WWC study-review data (one row per finding) as redistributed with a WWC-commissioned
paper in the public GitHub repository betsyjwolf/evidence-maps, file ``paper_data.csv`` at commit
7e6fb711d84b2c2cf5059e47ae92be1ebc148366 (the same copy tests/test_wwc_handbook.py uses). This is
a copy of the WWC's data, not a handbook page. Each row is named by ``f_findingid``.

The whole file was read (2026-11-28, all 64 read_file chunks, offsets 0 to 1,008,000). Exactly one
finding has a dichotomous outcome whose effect size the WWC computed itself from the two
proportions (full-precision ``f_effect_size_wwc`` differing from the study's ``f_effect_size_study``):

* finding 28178 (chunk at offset 992,000): Snipes, Huang, Jaquet & Finkelstein (2015), The effects
  of the Elevate Math summer program on math achievement and algebra readiness (REL 2015-096);
  RCT, "Meets WWC standards without reservations", protocol "Review of Individual Studies",
  standards version 4; outcome "mathematics diagnostic testing project (mdtp) algebra readiness
  test - passed 3 or more topic areas"; f_t_mean 29, f_c_mean 12 (percent passing, no SDs);
  f_t_ss 165, f_c_ss 184, f_ss 349; f_effect_size_study .52999997; f_effect_size_wwc .66343832.

The other proportion outcomes without SDs in the file cannot decide the question: their
``f_effect_size_wwc`` is the study's own two-decimal effect size copied over (equal to
``f_effect_size_study``) and the proportions are printed to two decimals, e.g. findings 331 and
335 (Eisen et al. 2003, N > 5,000), 317 (Flay et al. 2006, N = 2,660), 4721-4727 (Tong et al.
2014, N = 263), 4353 (Yeager et al. 2014, N = 78), 4394 (Blackwell et al. 2007, N = 91) and
2436 (McNeil et al. 2011, N = 60). No baseline (pre-test) rows are in the file, so the data show
how the WWC computes the Cox index of an outcome; that it computes baseline differences the same
way is not checked here (the handbook text could not be read).
"""

from __future__ import annotations

import math

import pytest

import evidence_kit as ek

# f_findingid 28178, paper_data.csv (offset 992,000): proportions from f_t_mean / f_c_mean (percent)
P_T, P_C = 29 / 100, 12 / 100
N_T, N_C = 165, 184  # f_t_ss, f_c_ss; f_ss = 349
WWC_COX = 0.66343832  # f_effect_size_wwc
STORAGE = 1e-7  # float32 storage of .66343832 (spacing 6e-8); the proportions are exact integers in percent


def _omega(n):
    return 1 - 3 / (4 * n - 9)


def test_finding_28178_sample_sizes_add_up():
    assert N_T + N_C == 349  # f_ss


def test_cox_index_reproduces_the_wwc_effect_size_of_finding_28178():
    """The default (omega applied) gives the WWC's own value to within float32 storage."""
    assert float(ek.cox_index(P_T, P_C, N_T, N_C)) == pytest.approx(WWC_COX, abs=STORAGE)


def test_the_wwc_cox_index_includes_omega():
    """Without omega the index is off by 1.4e-3, over 10,000 times the storage error."""
    without = float(ek.cox_index(P_T, P_C, N_T, N_C, small_sample=False))
    by_hand = (math.log(P_T / (1 - P_T)) - math.log(P_C / (1 - P_C))) / 1.65
    assert without == pytest.approx(by_hand, rel=1e-12)
    assert abs(without - WWC_COX) > 10_000 * STORAGE
    # the WWC value is the omega-free index times omega (N = 349: omega = 0.997837)
    assert WWC_COX / without == pytest.approx(_omega(N_T + N_C), abs=2 * STORAGE)
    assert abs(WWC_COX / without - 1) > 2e-3


def test_the_wwc_did_not_keep_the_study_effect_size():
    # f_effect_size_study .52999997: the WWC recomputed the effect from the proportions
    assert abs(float(ek.cox_index(P_T, P_C, N_T, N_C)) - 0.52999997) > 0.1
