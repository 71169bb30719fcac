"""One result type for the tools that take a fitted model (issue 13): forest and funnel plots,
Egger's test, GRADE and the Summary of Findings accept a MultilevelResult; the measure travels from
effect_sizes to the model; the contour-enhanced funnel shades every region. Egger's test in a
multilevel model is checked against tests/reference/bias_multilevel.R (metafor rma.mv with
sqrt(vi) or vi as a moderator)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import load_reference  # noqa: E402
from tolerances import ITERATIVE_ATOL, ITERATIVE_RTOL  # noqa: E402

import evidence_kit as ek  # noqa: E402

REF = load_reference("bias_multilevel")
CASES = REF["cases"]
EXPECTED = ["konstantopoulos_sei_REML", "konstantopoulos_sei_ML", "konstantopoulos_sei_REML_t",
            "konstantopoulos_vi_REML", "konstantopoulos_year_sei_REML", "assink_sei_REML"]
SETUP = {"konstantopoulos": ("dat.konstantopoulos2011", ["district", "school"]),
         "assink": ("dat.assink2016", ["study", "esid"])}


def close(got, want):
    np.testing.assert_allclose(got, want, rtol=ITERATIVE_RTOL, atol=ITERATIVE_ATOL)


def fit(case_id):
    case = CASES[case_id]
    name, levels = SETUP[case_id.split("_")[0]]
    mods = ["year"] if "_year_" in case_id else None
    return ek.multilevel_meta_analysis(ek.load_dataset(name), levels=levels, mods=mods,
                                       method=case["method"], test=case["test"])


def test_fixture_grid_is_complete():
    assert sorted(CASES) == sorted(EXPECTED)
    assert REF["versions"]["metafor"].startswith("3.8")
    assert all(c["call"].startswith("rma.mv(yi, vi, mods = ~") for c in CASES.values())


@pytest.mark.parametrize("case_id", EXPECTED)
def test_egger_in_the_multilevel_model_matches_rma_mv(case_id):
    case = CASES[case_id]
    ml = fit(case_id)
    out = ek.egger_test(ml, case["predictor"])
    close(out.statistic, case["statistic"])
    close(out.pvalue, case["pvalue"])
    close(out.fit.coefficients["estimate"], case["beta"])
    close(out.fit.coefficients["se"], case["se"])
    close(out.fit.sigma2, case["sigma2"])
    if case["df"] is None:
        assert out.df is None
    else:
        assert out.df == case["df"]
    if ml.p == 1:  # the intercept is the limit estimate
        close([out.limit_estimate, out.ci_lower, out.ci_upper],
              [case["beta"][0], case["ci_lb"][0], case["ci_ub"][0]])
    else:
        assert np.isnan(out.limit_estimate)
    assert "multilevel meta-regression model" in repr(out)


@pytest.mark.parametrize("case_id", ["konstantopoulos_sei_REML", "konstantopoulos_sei_REML_t", "assink_sei_REML"])
def test_multilevel_weights_and_predict_match_metafor(case_id):
    """weights(rma.mv) (diagonal of V^-1, percent) are what the forest plot draws."""
    case, ml = CASES[case_id], fit(case_id)
    close(ml.weights, case["base_weights"])
    assert ml.weights.sum() == pytest.approx(100)
    pred = ml.predict()
    assert len(pred) == 1
    for col, key in [("pred", "pred"), ("se", "se"), ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub"),
                     ("pi_lower", "pi_lb"), ("pi_upper", "pi_ub")]:
        close(pred[col].iloc[0], case["base_predict"][key])


def test_egger_lm_and_other_methods_say_why_not_for_multilevel():
    ml = fit("assink_sei_REML")
    with pytest.raises(ValueError, match="treats effects as independent"):
        ek.egger_test(ml, model="lm")
    for fn in (ek.rank_test, ek.trim_and_fill, ek.pet_peese):
        with pytest.raises(TypeError, match="not a MultilevelResult"):
            fn(ml)


def test_plots_accept_a_multilevel_model():
    dat = ek.effect_sizes(ek.load_dataset("dat.konstantopoulos2011").drop(columns=["yi", "vi"]).assign(
        m1i=1.0, m2i=0.8, sd1i=1.0, sd2i=1.1, n1i=30.0, n2i=31.0), "SMD",
        **{c: c for c in ("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i")})
    kon = ek.load_dataset("dat.konstantopoulos2011")
    ml = ek.multilevel_meta_analysis(kon, levels=["district", "school"], measure="SMD")
    ax = ek.forest_plot(ml)
    assert ax.get_xlabel() == "SMD"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == ml.k + 1 and labels[-1] == "RE model"
    plt.close(ax.figure)
    ax = ek.funnel_plot(ml, contour=True)
    assert ax.get_xlabel() == "SMD"
    plt.close(ax.figure)
    reg = ek.multilevel_meta_analysis(kon, levels=["district", "school"], mods=["year"])
    assert ek.funnel_plot(reg).get_xlabel() == "Residual"
    plt.close("all")
    # the measure recorded by effect_sizes reaches the multilevel model
    assert ek.multilevel_meta_analysis(dat, levels=["district", "school"]).measure == "SMD"


def test_grade_and_summary_of_findings_accept_a_multilevel_model():
    asn = ek.load_dataset("dat.assink2016")
    ml = ek.multilevel_meta_analysis(asn, levels=["study", "esid"])
    studies = sorted(asn["study"].unique())
    high = studies[:3]
    rob = ek.rob_assessment(pd.DataFrame({
        "study": studies, "D1": ["High" if s in high else "Low" for s in studies],
        **{f"D{i}": "Low" for i in range(2, 6)}}))
    g = ek.grade_certainty(ml, indirectness="not serious", rob=rob)
    # risk of bias is joined per study: the weights of each study's effects are summed
    share = ml.weights[asn["study"].isin(high).to_numpy()].sum() / 100
    assert f"{share:.1%} of the weight from 3 of {len(studies)} studies" in g.domains.loc["risk_of_bias", "rationale"]
    # k >= 10: the small-study test is Egger's test in the multilevel model
    egger = ek.egger_test(ml)
    assert f"p = {egger.pvalue:.3g}" in g.domains.loc["publication_bias", "rationale"]
    assert g.k == ml.k and g.estimate == pytest.approx(ml.estimate)
    sof = ek.summary_of_findings({"delinquency": g})
    assert sof.table.loc[0, "Studies"] == ml.k


def test_measure_travels_from_effect_sizes_to_the_model_and_plot():
    dat = ek.load_dataset("dat.bcg")
    es = ek.effect_sizes(dat, measure="RR", ai="tpos", bi="tneg", ci="cpos", di="cneg")
    res = ek.meta_analysis(es, slab="author")
    assert res.measure == "RR"
    assert ek.meta_analysis(es[es["year"] > 1940]).measure == "RR"  # survives row selection
    assert ek.meta_analysis(es, measure="OR").measure == "OR"  # an explicit measure wins
    assert ek.subgroup_analysis(es, by="alloc").overall.measure == "RR"
    ax = ek.forest_plot(res)
    assert ax.get_xlabel() == "RR (log scale)"  # it said "Effect"
    plt.close(ax.figure)


def test_predict_without_moderators_is_one_interval():
    es = ek.effect_sizes(ek.load_dataset("dat.bcg"), measure="RR", ai="tpos", bi="tneg", ci="cpos", di="cneg")
    pred = ek.meta_analysis(es).predict()
    assert list(pred.columns) == ["pred", "se", "ci_lower", "ci_upper", "pi_lower", "pi_upper"]
    assert len(pred) == 1
    assert len(ek.meta_analysis(es, mods=["ablat"]).predict()) == len(es)  # fitted values, as metafor


def test_multilevel_requires_levels():
    kon = ek.load_dataset("dat.konstantopoulos2011")
    with pytest.raises(TypeError, match="needs levels="):
        ek.multilevel_meta_analysis(kon)
    with pytest.raises(TypeError, match="needs levels="):
        ek.multilevel_meta_analysis(kon, levels=[])


def test_contour_funnel_shades_every_region_with_a_legend_entry():
    es = ek.effect_sizes(ek.load_dataset("dat.bcg"), measure="RR", ai="tpos", bi="tneg", ci="cpos", di="cneg")
    ax = ek.funnel_plot(ek.meta_analysis(es), contour=True)
    regions = {c.get_label(): tuple(np.round(c.get_facecolor()[0], 3)) for c in ax.collections
               if c.get_label() != "studies"}
    assert list(regions) == ["p < 0.01", "0.01 < p < 0.05", "0.05 < p < 0.1", "p > 0.1"]
    assert len(set(regions.values())) == 4  # p < .01 is no longer white like p > .10
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert set(regions) <= set(legend)
    plt.close(ax.figure)
