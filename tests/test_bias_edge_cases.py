"""Small-study methods on ordinary inputs that used to crash (issues 13 and 17): trim-and-fill with
a negative L0, identical effects and equal variances; PET-PEESE and Egger's test with equal
variances; and how their results print (metafor's layout, rounded, df shown only for t tests).

Expected values marked "metafor 3.8.1" were produced here with R 4.2 / metafor 3.8.1 by the call
quoted beside them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import evidence_kit as ek


def welch_smd():
    """The 11 main comparisons of dat.welch2016 as Hedges' g from the per-arm weight columns."""
    dat = ek.load_dataset("dat.welch2016")
    dat = dat[dat["main"] == 1]
    return ek.effect_sizes(dat, "SMD", m1i="m1i", sd1i="sd1i", n1i="n1i", m2i="m2i", sd2i="sd2i", n2i="n2i")


# ---- trim and fill ---------------------------------------------------------------------------

def test_trim_and_fill_on_the_deworming_reml_fit_does_not_crash():
    """It raised 'math domain error': a negative L0 reached math.sqrt. metafor reports k0 = 0."""
    es = welch_smd()
    out = ek.trim_and_fill(ek.meta_analysis(es, method="REML", slab="study"))
    assert out.k0 == 0 and not out.filled.any()
    # the equal-effects fit does not depend on the tau^2 search; metafor 3.8.1:
    # trimfill(rma(yi, vi, method = "EE")) -> k0 = 0 (SE = 2.1423), side "left"
    ee = ek.trim_and_fill(ek.meta_analysis(es, method="EE"))
    assert (ee.k0, ee.side) == (0, "left")
    assert ee.se_k0 == pytest.approx(2.14232797699086, rel=1e-9)


@pytest.mark.parametrize(("method", "se_k0"), [("EE", math.nan), ("REML", 1.40426022325785)])
def test_trim_and_fill_negative_l0_gives_k0_zero_and_metafor_standard_error(method, se_k0):
    """metafor 3.8.1, yi/vi below, trimfill(rma(yi, vi, method = m), side = "left"):
    EE: k0 = 0, se.k0 = NaN ("In sqrt(varSr): NaNs produced"); REML: k0 = 0, se.k0 = 1.40426."""
    yi = [1.55, -0.35, -0.36, 0.43, -0.02, -0.89]
    vi = [0.013, 0.083, 0.081, 0.092, 0.07, 0.072]
    out = ek.trim_and_fill(ek.meta_analysis(yi=yi, vi=vi, method=method), side="left")
    assert out.k0 == 0
    if math.isnan(se_k0):
        assert math.isnan(out.se_k0)
        assert "SE = NA" in repr(out)
    else:
        assert out.se_k0 == pytest.approx(se_k0, rel=1e-6)


@pytest.mark.parametrize("method", ["EE", "REML"])
def test_trim_and_fill_on_identical_effects_finds_nothing_missing(method):
    """Identical effects make a symmetric funnel: k0 = 0 (metafor 3.8.1 with side = "left":
    k0 = 0, se.k0 = NaN). It raised 'math domain error'."""
    yi, vi = [0.3] * 6, [0.01, 0.02, 0.03, 0.05, 0.08, 0.1]
    out = ek.trim_and_fill(ek.meta_analysis(yi=yi, vi=vi, method=method))
    assert (out.k0, out.side) == (0, "left")
    assert math.isnan(out.se_k0)
    assert out.estimate == pytest.approx(0.3)


def test_trim_and_fill_with_equal_variances_says_what_it_needs():
    """The side is chosen by regressing yi on sqrt(vi), impossible with equal variances: a plain
    error (it said 'design matrix rank deficient (a moderator ...)'; metafor stops with 'missing
    value where TRUE/FALSE needed'). With the side given it works as metafor: k0 = 0,
    se.k0 = 1.693506 (left) and 1.766087 (right)."""
    yi, vi = [0.1, 0.3, 0.2, 0.5, 0.4, 0.8], [0.04] * 6
    res = ek.meta_analysis(yi=yi, vi=vi)
    with pytest.raises(ValueError, match="variation in precision") as err:
        ek.trim_and_fill(res)
    assert "moderator" not in str(err.value) and "side='left'" in str(err.value)
    left, right = ek.trim_and_fill(res, side="left"), ek.trim_and_fill(res, side="right")
    assert left.k0 == right.k0 == 0
    assert left.se_k0 == pytest.approx(1.6935055596753943, rel=1e-9)
    assert right.se_k0 == pytest.approx(1.7660865391301166, rel=1e-9)


def test_pet_peese_and_egger_with_equal_variances_say_what_they_need():
    res = ek.meta_analysis(yi=[0.1, 0.3, 0.2, 0.5, 0.4, 0.8], vi=[0.04] * 6)
    with pytest.raises(ValueError, match="variation in precision"):
        ek.pet_peese(res)  # raised numpy.linalg.LinAlgError: Singular matrix
    with pytest.raises(ValueError, match="variation in precision"):
        ek.egger_test(res)


# ---- printing ---------------------------------------------------------------------------------

def bcg():
    dat = ek.effect_sizes(ek.load_dataset("dat.bcg"), "RR", ai="tpos", bi="tneg", ci="cpos", di="cneg")
    return dat, ek.meta_analysis(dat)


def test_egger_prints_like_regtest():
    """Text as metafor 3.8.1 print(regtest(res)) and print(regtest(res, model = "lm")), dat.bcg RR."""
    _, res = bcg()
    assert repr(ek.egger_test(res)) == (
        "\nRegression Test for Funnel Plot Asymmetry\n\n"
        "Model:     mixed-effects meta-regression model\n"
        "Predictor: standard error\n\n"
        "Test for Funnel Plot Asymmetry: z = -0.8033, p = 0.4218\n"
        "Limit Estimate (as sei -> 0):   b = -0.5104 (CI: -1.1182, 0.0974)\n")
    lm = ek.egger_test(res, model="lm")
    assert "Test for Funnel Plot Asymmetry: t = -1.4013, df = 11, p = 0.1887\n" in repr(lm)
    assert "weighted regression with multiplicative dispersion" in repr(lm)
    for out in (ek.egger_test(res), lm):
        text, page = repr(out), out._repr_html_()
        assert "None" not in text and "None" not in page and "fit=" not in text
        assert "<strong>Regression Test for Funnel Plot Asymmetry</strong>" in page
    assert "df =" not in repr(ek.egger_test(res))  # z test: no degrees of freedom


def test_rank_test_prints_like_ranktest():
    _, res = bcg()
    assert repr(ek.rank_test(res)) == ("\nRank Correlation Test for Funnel Plot Asymmetry\n\n"
                                       "Kendall's tau = 0.0256, p = 0.9524\n")
    assert "p = 0.9029 (normal approximation)" in repr(ek.rank_test(res, exact=False))
    assert "Kendall&#x27;s tau = 0.0256" in ek.rank_test(res)._repr_html_()


def test_trim_and_fill_prints_k0_first():
    """metafor 3.8.1 print(trimfill(res, estimator = "R0")), dat.bcg RR REML."""
    _, res = bcg()
    out = ek.trim_and_fill(res, estimator="R0")
    text = repr(out)
    assert text.startswith(
        "\nEstimated number of missing studies on the right side: 0 (SE = 1.4142)\n"
        "Test of H0: no missing studies on the right side:      p-val = 0.5000\n\n"
        "Random-Effects Model (k = 13; tau^2 estimator: REML)\n")
    page = out._repr_html_()
    assert "Estimated number of missing studies on the right side: 0 (SE = 1.4142)" in page
    assert "Random-Effects Model" in page


def test_selection_model_prints_rounded_tables():
    _, res = bcg()
    out = ek.selection_model(res, steps=[0.025], alternative="less")
    text = repr(out)
    assert "Random-Effects Model (k = 13; tau^2 estimator: ML)" in text
    assert "Test for Selection Model Parameters:\nLRT(df = 1) = " in text
    assert "---" in text  # the first delta is fixed at 1, as metafor prints it
    assert "SelectionResult(" not in text and "array(" not in text
    # numbers are rounded to 4 decimals
    assert f"{out.estimate:.4f}" in text and repr(out.estimate) not in text
    assert "<table" in out._repr_html_()


def test_result_fields_keep_full_precision():
    _, res = bcg()
    out = ek.egger_test(res)
    assert out.df is None and out.statistic == pytest.approx(-0.8033, abs=1e-4)
    assert np.isfinite(out.limit_estimate)
