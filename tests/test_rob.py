"""Risk-of-bias data model and overall-judgement algorithms.

Published algorithms: RoB 2 (Sterne et al. BMJ 2019;366:l4898, overall judgement), ROBINS-I (Sterne et al.
BMJ 2016;355:i4919, overall judgement), generic worst-domain (Higgins et al. BMJ 2011;343:d5928).
"""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import evidence_kit as ek  # noqa: E402
from evidence_kit.certainty.rob import TOOL_DOMAINS, TOOL_LABELS, overall_judgement  # noqa: E402
from evidence_kit.plots.rob import rob_summary_table  # noqa: E402

ROB2 = pd.DataFrame({
    "study": ["Adams 2010", "Baker 2012", "Chen 2015", "Diaz 2018"],
    "D1": ["Low", "low", "Some concerns", "Low"],
    "D2": ["Low", "Some concerns", "Some concerns", "Low"],
    "D3": ["Low", "Low", "Some concerns", "High"],
    "D4": ["Low", "Low", "Low", "Low"],
    "D5": ["Low", "Low", "Some concerns", "Low"],
})


def test_rob2_overall_algorithm():
    a = ek.rob_assessment(ROB2)
    assert list(a.table["overall"]) == ["Low", "Some concerns", "Some concerns", "High"]
    # labels are normalized to the tool's spelling
    assert a.table.loc[1, "D1"] == "Low"
    assert a.domain_names["D3"] == "Missing outcome data"


def test_rob2_every_pattern_of_three_domains():
    # exhaustive over 3^5 patterns: High if any High; else Some concerns if any; else Low
    labels = TOOL_LABELS["rob2"]
    rows = list(itertools.product(labels, repeat=5))
    df = pd.DataFrame(rows, columns=[c for c, _ in TOOL_DOMAINS["rob2"]])
    got = overall_judgement(df, "rob2")
    expected = ["High" if "High" in r else "Some concerns" if "Some concerns" in r else "Low" for r in rows]
    assert list(got) == expected


def test_robins_i_overall_algorithm():
    cols = [c for c, _ in TOOL_DOMAINS["robins_i"]]
    rows = {
        "all low": ["Low"] * 7,
        "moderate": ["Low"] * 6 + ["Moderate"],
        "serious": ["Moderate", "Serious"] + ["Low"] * 5,
        "critical": ["Critical", "Serious"] + ["Low"] * 5,
        "no info": ["Low", "No information"] + ["Moderate"] * 5,
        "serious beats NI": ["Serious", "No information"] + ["Low"] * 5,
    }
    df = pd.DataFrame(rows.values(), columns=cols)
    df.insert(0, "study", list(rows))
    a = ek.rob_assessment(df, tool="ROBINS-I")
    assert a.tool == "robins_i"
    assert list(a.table["overall"]) == ["Low", "Moderate", "Serious", "Critical", "No information", "Serious"]


def test_cluster_variant_has_domain_1b():
    df = ROB2.rename(columns={"D1": "D1a"}).assign(D1b=["Low", "High", "Low", "Low"])
    a = ek.rob_assessment(df, tool="rob2_cluster")
    assert a.domains == ("D1a", "D1b", "D2", "D3", "D4", "D5")
    assert list(a.table["overall"]) == ["Low", "High", "Some concerns", "High"]
    with pytest.raises(ValueError, match="missing domain columns: D1b"):
        ek.rob_assessment(ROB2.rename(columns={"D1": "D1a"}), tool="rob2_cluster")


def test_generic_tool_is_worst_domain():
    df = pd.DataFrame({"study": ["a", "b", "c"], "sequence": ["Low", "Unclear", "Low"],
                       "blinding": ["Low", "Low", "High"]})
    a = ek.rob_assessment(df, tool="generic", domains={"sequence": "Random sequence", "blinding": "Blinding"})
    assert list(a.table["overall"]) == ["Low", "Unclear", "High"]
    with pytest.raises(ValueError, match="generic tool needs domains"):
        ek.rob_assessment(df, tool="generic")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(TOOL_LABELS["robins_i"]), min_size=7, max_size=7))
def test_robins_i_overall_is_never_better_than_any_domain(row):
    order = {"Low": 0, "Moderate": 1, "No information": 1.5, "Serious": 2, "Critical": 3}
    df = pd.DataFrame([row], columns=[c for c, _ in TOOL_DOMAINS["robins_i"]])
    overall = overall_judgement(df, "robins_i").iloc[0]
    worst_known = max((order[x] for x in row if x != "No information"), default=0)
    assert order[overall] >= worst_known


def test_unknown_label_names_study_and_column():
    bad = ROB2.copy()
    bad.loc[2, "D4"] = "probably low"
    with pytest.raises(ValueError, match=r"column 'D4': study 'Chen 2015' \(D4='probably low'\)"):
        ek.rob_assessment(bad)
    missing = ROB2.copy()
    missing.loc[0, "D2"] = None
    with pytest.raises(ValueError, match="Adams 2010"):
        ek.rob_assessment(missing)


def test_missing_domain_and_unknown_tool():
    with pytest.raises(ValueError, match="missing domain columns: D5"):
        ek.rob_assessment(ROB2.drop(columns="D5"))
    with pytest.raises(ValueError, match="unknown risk-of-bias tool"):
        ek.rob_assessment(ROB2, tool="rob3")
    with pytest.raises(ValueError, match="duplicate"):
        ek.rob_assessment(pd.concat([ROB2, ROB2.iloc[:1]]))


def test_domain_columns_can_be_mapped():
    df = ROB2.rename(columns={"D1": "randomization"})
    a = ek.rob_assessment(df, domains={"D1": "randomization"})
    assert a.table.loc[3, "overall"] == "High"


def test_override_keeps_reason_and_requires_one():
    df = ROB2.assign(overall=[None, None, "High", None],
                     why=[None, None, "some concerns in four domains substantially lower confidence", None])
    a = ek.rob_assessment(df, overall="overall", override_reason="why")
    row = a.table.loc[2]
    assert row["overall_algorithm"] == "Some concerns" and row["overall"] == "High"
    assert row["override_reason"].startswith("some concerns in four")
    assert a.table["override_reason"].isna().sum() == 3
    with pytest.raises(ValueError, match=r"without a reason.*'Chen 2015' \(Some concerns -> High\)"):
        ek.rob_assessment(df.assign(why=None), overall="overall", override_reason="why")
    # restating the algorithm's own answer needs no reason
    same = ROB2.assign(overall=["Low", None, None, "high"])
    assert ek.rob_assessment(same, overall="overall").table["override_reason"].isna().all()


def test_per_outcome_judgements():
    df = pd.concat([ROB2.assign(outcome=None),
                    ROB2.iloc[[0]].assign(outcome="attendance", D4="High")], ignore_index=True)
    a = ek.rob_assessment(df, outcome="outcome")
    att = a.for_outcome("attendance")
    assert att.overall_by_study()["Adams 2010"] == "High"
    assert att.overall_by_study()["Baker 2012"] == "Some concerns"
    assert len(att.table) == 4
    with pytest.raises(ValueError, match="several assessments per study"):
        a.overall_by_study()


def test_subset_order_and_unknown():
    a = ek.rob_assessment(ROB2)
    assert list(a.subset(["Diaz 2018", "Adams 2010"]).table["study"]) == ["Diaz 2018", "Adams 2010"]
    with pytest.raises(ValueError, match="Zed 2020"):
        a.subset(["Zed 2020"])


# ------------------------------------------------------------------ plots


def test_summary_table_weighted_shares():
    a = ek.rob_assessment(ROB2)
    unweighted = rob_summary_table(a)
    assert unweighted.loc["Overall"].tolist() == [0.25, 0.5, 0.25]
    w = {"Adams 2010": 40.0, "Baker 2012": 30.0, "Chen 2015": 20.0, "Diaz 2018": 10.0}
    weighted = rob_summary_table(a, weights=w)
    np.testing.assert_allclose(weighted.loc["Overall"], [0.4, 0.5, 0.1])
    np.testing.assert_allclose(weighted.loc["D3: Missing outcome data"], [0.7, 0.2, 0.1])
    np.testing.assert_allclose(weighted.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="weights missing for studies: Diaz 2018"):
        rob_summary_table(a, weights={k: v for k, v in w.items() if k != "Diaz 2018"})


def test_plots_return_axes_on_given_or_new_axes():
    a = ek.rob_assessment(ROB2)
    fig, ax = plt.subplots()
    assert ek.rob_traffic_light(a, ax=ax) is ax
    # 4 studies x (5 domains + overall) dots, each with its symbol
    assert len(ax.texts) == 24
    assert [t.get_text() for t in ax.get_yticklabels()] == list(ROB2["study"])
    ax2 = ek.rob_traffic_light(a, studies=["Diaz 2018"], show_overall=False)
    assert ax2 is not ax and len(ax2.texts) == 5
    ax3 = ek.rob_summary_plot(a, weights={s: 1.0 for s in ROB2["study"]})
    assert ax3.get_xlabel() == "Share of weight (%)"
    widths = sorted(round(p.get_width(), 6) for p in ax3.patches)
    assert widths[-1] == 100.0  # D4 is Low everywhere
    plt.close("all")


def test_protocol_rule_for_multiple_some_concerns():
    # Chen 2015 has some concerns in 4 domains; with a protocol rule of >= 3 it is judged High
    a = ek.rob_assessment(ROB2, multiple_concerns_high=3)
    assert list(a.table["overall"]) == ["Low", "Some concerns", "High", "High"]
    assert list(a.table["overall_algorithm"]) == ["Low", "Some concerns", "Some concerns", "High"]
    assert a.table.loc[2, "override_reason"].startswith("protocol rule: some concerns in 4 domains")
    assert a.table.loc[3, "override_reason"] is None  # High by the algorithm itself
    # a reviewer's explicit overall takes precedence over the protocol rule
    df = ROB2.assign(overall=[None, None, "Some concerns", None])
    b = ek.rob_assessment(df, overall="overall", multiple_concerns_high=3)
    assert b.table.loc[2, "overall"] == "Some concerns" and b.table.loc[2, "override_reason"] is None
    with pytest.raises(ValueError, match="RoB 2 only"):
        ek.rob_assessment(ROB2.assign(D6="Low", D7="Low").replace({"Some concerns": "Moderate", "High": "Serious"}),
                          tool="robins_i", multiple_concerns_high=3)
    with pytest.raises(ValueError, match="at least 2"):
        ek.rob_assessment(ROB2, multiple_concerns_high=1)


def test_summary_weights_from_a_meta_analysis_result():
    dat = ek.load_dataset("dat.bangertdrowns2004").iloc[:6]
    dat["study"] = dat["author"]
    res = ek.meta_analysis(dat, slab="study")
    rob = ek.rob_assessment(pd.DataFrame({"study": res.slab, "D1": ["High", "Low", "Low", "Low", "Low", "Low"],
                                          "D2": "Low", "D3": "Low", "D4": "Low", "D5": "Low"}))
    table = rob_summary_table(rob, weights=res)
    assert table.loc["Overall", "High"] == pytest.approx(res.weights[0] / res.weights.sum(), rel=1e-12)
    ax = ek.rob_summary_plot(rob, weights=res)
    assert ax.get_xlabel() == "Share of weight (%)"
    plt.close("all")
