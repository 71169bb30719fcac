"""meta_analysis: bad input, missing rows, k = 1, design coding, display, convergence safeguards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_synthesis_metafor import frame

import evidence_kit as ek
from evidence_kit.synthesis import ConvergenceError, _tau2

BCG = frame("bcg")


@pytest.mark.parametrize(("column", "value", "message"), [
    ("vi", 0.0, r"vi must be positive: row 3 \(vi=0.0\)"),
    ("vi", -0.1, r"vi must be positive: row 3 \(vi=-0.1\)"),
    ("vi", np.inf, r"vi must be finite: row 3 \(vi=inf\)"),
    ("yi", -np.inf, r"yi must be finite: row 3 \(yi=-inf\)"),
])
def test_impossible_values_name_row_and_column(column, value, message):
    dat = BCG.copy()
    dat.loc[3, column] = value
    with pytest.raises(ValueError, match=message):
        ek.meta_analysis(dat)


def test_argument_errors():
    with pytest.raises(ValueError, match="unknown method 'XX'; expected one of EE, DL, HE, HS, SJ, ML, REML, EB, PM"):
        ek.meta_analysis(BCG, method="XX")
    with pytest.raises(ValueError, match="unknown test 'x'; expected one of z, t, knha"):
        ek.meta_analysis(BCG, test="x")
    with pytest.raises(ValueError, match="vi has 3 values but the other columns have 4"):
        ek.meta_analysis(None, [0.1, 0.2, 0.3, 0.4], [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="k = 0"):
        ek.meta_analysis(None, [np.nan, np.nan], [0.1, 0.1])
    with pytest.raises(KeyError, match="nope"):
        ek.meta_analysis(BCG, yi="nope")
    with pytest.raises(KeyError, match="mods: column 'nope'"):
        ek.meta_analysis(BCG, mods=["nope"])
    with pytest.raises(ValueError, match="level must be a percentage"):
        ek.meta_analysis(BCG, level=0.95)
    with pytest.raises(ValueError, match="rank deficient"):
        ek.meta_analysis(BCG.assign(c=1.0), mods=["c"])


def test_missing_rows_are_omitted_and_recorded():
    dat = BCG.copy()
    dat.index = [f"trial {i + 1}" for i in range(len(dat))]
    dat.loc["trial 2", "yi"] = np.nan
    dat.loc["trial 5", "vi"] = np.nan
    res = ek.meta_analysis(dat)
    assert res.k == 11
    assert list(res.omitted) == ["trial 2", "trial 5"]
    assert "trial 2" not in list(res.slab)
    full = ek.meta_analysis(dat.drop(index=["trial 2", "trial 5"]))
    assert res.estimate == pytest.approx(full.estimate, rel=1e-12)
    assert "2 studies omitted" in repr(res)
    # a missing moderator omits the row too (metafor's na.omit)
    dat2 = BCG.copy()
    dat2.loc[0, "ablat"] = np.nan
    assert list(ek.meta_analysis(dat2, mods=["ablat"]).omitted) == [0]


def test_single_study_and_fe_alias():
    one = ek.meta_analysis(None, [0.5], [0.04])
    assert one.k == 1 and one.estimate == 0.5 and one.se == pytest.approx(0.2)
    assert one.tau2 == 0.0 and one.q == 0.0 and one.q_pvalue == 1.0 and one.i2 == 0.0
    fe = ek.meta_analysis(BCG, method="fe")
    assert fe.method == "EE" and fe.tau2 == 0.0 and np.isnan(fe.se_tau2)


def test_categorical_moderators_are_dummy_coded_against_first_sorted_level():
    res = ek.meta_analysis(BCG, mods=["alloc"])
    assert res.term_names == ["intercept", "allocrandom", "allocsystematic"]
    alt = BCG[BCG.alloc == "alternate"]
    assert res.X[BCG.index.get_indexer(alt.index), 1:].sum() == 0
    assert res.qm_df == (2,)
    assert res.design == (("alloc", ["alternate", "random", "systematic"]),)


def test_level_changes_only_intervals():
    r95 = ek.meta_analysis(BCG)
    r90 = ek.meta_analysis(BCG, level=90)
    assert r90.estimate == r95.estimate
    assert r90.ci_upper - r90.ci_lower < r95.ci_upper - r95.ci_lower
    assert (r90.estimate - r90.ci_lower) / r90.se == pytest.approx(1.6448536269514722)


def test_result_is_frozen_and_reports_like_metafor():
    res = ek.meta_analysis(BCG)
    with pytest.raises(AttributeError):
        res.tau2 = 0.0  # frozen
    text = repr(res)
    assert text.startswith("Random-Effects Model (k = 13; tau^2 estimator: REML)")
    assert "tau^2 (estimated amount of total heterogeneity): 0.3132 (SE = 0.1664)" in text
    assert "\ntau (square root of estimated tau^2 value):      0.5597\n" in text  # aligned as metafor
    assert "I^2 (total heterogeneity / total variability):   92.22%" in text
    assert "Q(df = 12) = 152.2330, p-val < .0001" in text
    assert "-0.7145" in text and "-3.9744" in text and "-1.0669" in text
    html = res._repr_html_()
    assert "<table" in html and "Random-Effects Model (k = 13; tau^2 estimator: REML)" in html
    reg = ek.meta_analysis(BCG, mods=["ablat"], test="knha")
    assert repr(reg).startswith("Mixed-Effects Model (k = 13; tau^2 estimator: REML)")
    assert "Test of Moderators (coefficient 2):\nF(df1 = 1, df2 = 11) = " in repr(reg)
    assert "R^2 (amount of heterogeneity accounted for):" in repr(reg)
    assert "QE(df = 11) = 30.7331, p-val = 0.0012" in repr(ek.meta_analysis(BCG, mods=["ablat"]))
    assert repr(ek.meta_analysis(BCG, method="EE")).startswith("Equal-Effects Model (k = 13)")
    # rounding only for display
    assert res.tau2 != round(res.tau2, 4)


def test_summary_frame():
    res = ek.meta_analysis(BCG)
    s = res.summary()
    assert len(s) == 14 and s.index[-1] == "RE model"
    assert s["weight"].iloc[:13].sum() == pytest.approx(100)
    assert s.loc["RE model", "yi"] == res.estimate
    assert s.loc["RE model", "pi_lower"] == pytest.approx(res.predict()["pi_lower"].iloc[0])
    np.testing.assert_allclose(s["ci_lower"].iloc[:13], BCG["yi"] - 1.959963984540054 * np.sqrt(BCG["vi"]))
    reg = ek.meta_analysis(BCG, mods=["ablat"]).summary()
    assert list(reg.index[-2:]) == ["coefficient: intercept", "coefficient: ablat"]
    assert reg["weight"].iloc[-2:].isna().all()
    np.testing.assert_allclose(reg["fitted"].iloc[:13], ek.meta_analysis(BCG, mods=["ablat"]).predict()["pred"])


def test_predict_newmods_shape_errors():
    reg = ek.meta_analysis(BCG, mods=["ablat"])
    assert len(reg.predict([10, 20, 30])) == 3
    assert len(reg.predict()) == 13  # fitted values per study, as metafor
    with pytest.raises(ValueError, match="newmods has 3 columns; the model has 1 moderators"):
        reg.predict(np.ones((2, 3)))


def test_fisher_scoring_fallback_and_clear_error(monkeypatch):
    ref = ek.meta_analysis(BCG, method="REML")
    monkeypatch.setattr(_tau2, "MAXITER", 1)  # scoring cannot finish: the bracketing fallback must
    fallback = ek.meta_analysis(BCG, method="REML")
    assert fallback.tau2 == pytest.approx(ref.tau2, rel=1e-10)

    def no_root(*args, **kwargs):
        raise ConvergenceError("REML: the score does not change sign")

    monkeypatch.setattr(_tau2, "_score_root", no_root)
    with pytest.raises(ConvergenceError, match="score does not change sign"):
        ek.meta_analysis(BCG, method="REML")


def test_large_k_runs_in_linear_memory():
    rng = np.random.default_rng(0)
    k = 200_000
    v = rng.uniform(0.01, 0.5, k)
    y = rng.normal(0.3, np.sqrt(v + 0.1))
    res = ek.meta_analysis(pd.DataFrame({"yi": y, "vi": v}))
    assert res.converged and res.tau2 == pytest.approx(0.1, rel=0.05)
    assert res.X.shape == (k, 1) and res.X.strides == (0, 0)  # a view, not k ones


def test_predict_transf_back_transforms_but_keeps_se():
    res = ek.meta_analysis(BCG)
    raw, rr = res.predict(), res.predict(transf=np.exp)
    np.testing.assert_allclose(rr[["pred", "ci_lower", "pi_upper"]], np.exp(raw[["pred", "ci_lower", "pi_upper"]]))
    assert rr["se"].iloc[0] == raw["se"].iloc[0]


def test_heterogeneity_ci_needs_a_random_effects_model():
    with pytest.raises(ValueError, match="equal-effects model has no tau"):
        ek.meta_analysis(BCG, method="EE").heterogeneity_ci()
    with pytest.raises(ValueError, match="need k > p"):
        ek.meta_analysis(None, [0.3], [0.1]).heterogeneity_ci()
    ci90 = ek.meta_analysis(BCG).heterogeneity_ci(level=90)
    ci95 = ek.meta_analysis(BCG).heterogeneity_ci()
    assert ci95.loc["tau2", "ci_lower"] < ci90.loc["tau2", "ci_lower"] < ci90.loc["tau2", "ci_upper"] < ci95.loc[
        "tau2", "ci_upper"]


def test_dl_computes_only_what_it_needs(monkeypatch):
    """DerSimonian-Laird needs no log-likelihood and no second pass for Q: logLik is computed when
    first read (issue 13, speed), and equals the eager value."""
    calls = []
    real = _tau2.restricted_ll
    monkeypatch.setattr(_tau2, "restricted_ll", lambda *a, **k: calls.append(1) or real(*a, **k))
    res = ek.meta_analysis(BCG, method="DL")
    assert calls == []
    ll = res.ll
    assert calls == [1] and res.ll == ll and calls == [1]  # computed once, then kept
    X = np.ones((13, 1))
    assert ll == pytest.approx(real(res.yi, res.vi, X, res.tau2, reml=False), rel=1e-14)
    reml = ek.meta_analysis(BCG, method="REML")
    assert reml.ll == pytest.approx(-12.2024, abs=1e-4)  # metafor logLik(res) on dat.bcg
    with pytest.raises(AttributeError):
        res.ll = 0.0  # still frozen
