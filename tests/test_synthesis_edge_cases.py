"""Ordinary inputs that gave wrong numbers or crashed (issue 13): a one-study model with
test="knha", a one-study subgroup, Mantel-Haenszel when an outcome never occurs, influence() when
a leave-one-out refit is impossible. Expected values marked "metafor 3.8.1" were produced here
with R 4.2 / metafor 3.8.1 by the call quoted beside them."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import evidence_kit as ek

# ---- one study with Knapp-Hartung -------------------------------------------------------------

def test_one_study_knha_falls_back_to_z_with_a_warning():
    """metafor 3.8.1 rma(0.2, 0.04, test = "knha"): warning 'Setting argument test="z" since
    k=1', estimate 0.2, se 0.2, zval 1, ci [-0.1920, 0.5920]. It gave SE 0, t = -inf, no CI."""
    with pytest.warns(UserWarning, match='z test is used'):
        res = ek.meta_analysis(yi=[0.2], vi=[0.04], test="knha")
    assert res.test == "z" and res.df is None
    assert res.se == pytest.approx(0.2) and res.statistic == pytest.approx(1.0)
    assert (res.ci_lower, res.ci_upper) == pytest.approx((-0.19199279690801, 0.59199279690801))


def test_one_study_subgroup_with_knha_has_a_standard_error():
    d = pd.DataFrame({"yi": [0.1, 0.3, 0.2, 0.5, 0.4], "vi": [0.01, 0.02, 0.03, 0.02, 0.05],
                      "g": ["a", "a", "a", "b", "c"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = ek.subgroup_analysis(d, by="g", test="knha")
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]  # no numpy warnings
    assert {str(w.message).split(":")[0] for w in caught} == {"subgroup 'b'", "subgroup 'c'"}
    np.testing.assert_allclose(out.groups.loc[["b", "c"], "se"], np.sqrt([0.02, 0.05]))
    assert np.isfinite(out.q_between) and np.isfinite(out.q_between_pvalue)
    # Q_between from the group estimates, as rma(b, sei = se, mods = ~ group, method = "EE")
    b, se = out.groups["estimate"].to_numpy(), out.groups["se"].to_numpy()
    w = 1 / se**2
    assert out.q_between == pytest.approx(np.sum(w * (b - np.sum(w * b) / w.sum()) ** 2))
    assert "NA" not in repr(out)


def test_cumulative_knha_first_step_is_a_z_test():
    res = ek.meta_analysis(yi=[0.1, 0.3, 0.2, 0.5], vi=[0.01, 0.02, 0.03, 0.02], test="knha")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cum = ek.cumulative(res)
    assert cum["se"].iloc[0] == pytest.approx(0.1)
    assert np.isfinite(cum[["ci_lower", "ci_upper"]].iloc[0]).all()


# ---- Mantel-Haenszel with an outcome that never occurs ---------------------------------------

BI, DI = [10, 12, 9], [11, 10, 8]


@pytest.mark.parametrize("measure", ["OR", "RR"])
def test_mantel_haenszel_without_events_is_nan_with_a_warning(measure):
    """metafor 3.8.1 rma.mh(ai = c(0,0,0), bi, ci = c(0,0,0), di, measure = m): estimate, se and CI
    NA; Q(df = 0) = 0, p = 1, I^2 = 0, H^2 = 1; MH (CMH) NA. It raised ValueError."""
    with pytest.warns(RuntimeWarning, match="undefined"):
        out = ek.mantel_haenszel(ai=[0, 0, 0], bi=BI, ci=[0, 0, 0], di=DI, measure=measure)
    assert np.isnan([out.estimate, out.se, out.statistic, out.pvalue, out.ci_lower, out.ci_upper]).all()
    assert (out.q, out.q_df, out.q_pvalue, out.i2, out.h2) == (0.0, 0, 1.0, 0.0, 1.0)
    if measure == "OR":
        assert np.isnan(out.cmh) and np.isnan(out.cmh_pvalue)
    assert "NA" in repr(out)


def test_mantel_haenszel_events_in_one_arm_only():
    """metafor 3.8.1, ai = c(2,1,3), ci = c(0,0,0): OR and RR NA, QE NA; CMH = 3.20095522,
    p = 0.07359527 (the CMH test needs no pooled ratio)."""
    with pytest.warns(RuntimeWarning):
        out = ek.mantel_haenszel(ai=[2, 1, 3], bi=BI, ci=[0, 0, 0], di=DI, measure="OR")
    assert np.isnan(out.estimate) and np.isnan(out.q) and np.isnan(out.i2)
    assert out.cmh == pytest.approx(3.20095522, rel=1e-8)
    assert out.cmh_pvalue == pytest.approx(0.07359527, rel=1e-6)


def test_mantel_haenszel_impossible_input_still_raises():
    with pytest.raises(ValueError, match="non-negative"):
        ek.mantel_haenszel(ai=[-1, 0, 0], bi=BI, ci=[0, 0, 0], di=DI)


# ---- influence when a refit is impossible ------------------------------------------------------

def test_influence_keeps_hat_and_weight_when_a_refit_fails():
    """metafor 3.8.1 influence(rma(yi, vi, mods = ~ g)): study 6, alone in group c, has
    hat 1.0000 and weight 8.9820; only the refit-based statistics are NA."""
    d = pd.DataFrame({"yi": [0.1, 0.3, 0.2, 0.5, 0.4, 0.9], "vi": [0.01, 0.02, 0.03, 0.02, 0.05, 0.04],
                      "g": ["a", "a", "a", "b", "b", "c"]})
    res = ek.meta_analysis(d, mods=["g"])
    inf = ek.influence(res)
    np.testing.assert_allclose(inf["hat"].round(4), [0.5455, 0.2727, 0.1818, 0.7143, 0.2857, 1.0])
    np.testing.assert_allclose(inf["weight"].round(4), [35.9281, 17.9641, 11.976, 17.9641, 7.1856, 8.982])
    refit_based = ["rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "q_del", "dfbetas"]
    assert inf.loc[5, refit_based].isna().all()
    assert inf.loc[:4, refit_based].notna().all().all()
    np.testing.assert_allclose(inf["rstudent"].iloc[:5].round(4), [-1.0787, 1.0553, 0.1741, 0.3780, -0.3780])
