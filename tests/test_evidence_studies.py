"""The study-level datasets of evidence/studies.yaml against metafor (tests/reference/evidence_studies.R).

The escalc cases use exactly the measure and column arguments written in studies.yaml, so a wrong
argument in the mapping (a swapped column, a wrong measure) shows as a mismatch here; the rma cases
are the REML random-effects fit a notebook starts from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import load_reference
from tolerances import (
    CLOSED_FORM_ATOL,
    CLOSED_FORM_RTOL,
    ITERATIVE_ATOL,
    ITERATIVE_RTOL,
    published_atol,
)

import evidence_kit as ek

EVIDENCE = Path(__file__).resolve().parents[1] / "evidence"
REF = load_reference("evidence_studies")
CASES = {c["id"]: c for c in REF["cases"]}
EXPECTED_IDS = {
    "escalc_dat.crede2010", "escalc_dat.gibson2002", "escalc_dat.aloe2013", "escalc_dat.lopez2019",
    "escalc_dat.wilson2011", "rma_dat.wilson2011",
    "rma_dat.konstantopoulos2011", "rma_dat.raudenbush1985", "rma_dat.bangertdrowns2004",
    "rma_dat.tannersmith2016", "rma_dat.crede2010", "rma_dat.gibson2002", "rma_dat.aloe2013",
}


@pytest.fixture(scope="module")
def base():
    return ek.load_evidence(EVIDENCE, strict=False)


def test_reference_grid_is_complete(base):
    assert set(CASES) == EXPECTED_IDS
    assert REF["versions"]["metafor"] == "3.8.1"
    # every mapped dataset is covered: escalc for those with an escalc spec, rma for all but the
    # arm-level dat.lopez2019
    with_spec = set(base.studies.loc[base.studies["escalc"].map(bool), "dataset"])
    assert {c["dataset"] for c in CASES.values() if c["id"].startswith("escalc_")} == with_spec
    assert {c["dataset"] for c in CASES.values() if c["id"].startswith("rma_")} == set(base.studies["dataset"]) - {"dat.lopez2019"}


@pytest.mark.parametrize("case_id", sorted(i for i in EXPECTED_IDS if i.startswith("escalc_")))
def test_escalc_arguments_of_studies_yaml(base, case_id):
    case = CASES[case_id]
    spec = base.studies.set_index("dataset").loc[case["dataset"], "escalc"]
    assert spec["measure"] == case["measure"]
    # the R call used the same argument = column pairs as studies.yaml
    for arg, col in spec.items():
        if arg != "measure":
            assert f"{arg}={col}" in case["call"]
    out = base.study_effect_sizes(case["dataset"])
    yi_r = np.array(case["yi"], dtype=float)  # null (NA in R) -> NaN
    vi_r = np.array(case["vi"], dtype=float)
    np.testing.assert_array_equal(np.isnan(out["yi"].to_numpy()), np.isnan(yi_r))
    np.testing.assert_allclose(out["yi"], yi_r, rtol=CLOSED_FORM_RTOL, atol=CLOSED_FORM_ATOL)
    np.testing.assert_allclose(out["vi"], vi_r, rtol=CLOSED_FORM_RTOL, atol=CLOSED_FORM_ATOL)


@pytest.mark.parametrize("case_id", sorted(i for i in EXPECTED_IDS if i.startswith("rma_")))
def test_reml_fit_of_each_mapped_dataset(base, case_id):
    case = CASES[case_id]
    data = base.study_effect_sizes(case["dataset"]).dropna(subset=["yi", "vi"])  # metafor omits NA rows
    res = ek.meta_analysis(data, method="REML")
    assert res.k == case["k"]
    for name in ("estimate", "se", "ci_lower", "ci_upper", "tau2", "i2", "q"):
        assert getattr(res, name) == pytest.approx(case[name], rel=ITERATIVE_RTOL, abs=ITERATIVE_ATOL), name


def test_numbers_written_in_studies_yaml_hold_on_the_data():
    """Every count stated in a studies.yaml note, recomputed from the shipped data."""
    kon = ek.load_dataset("dat.konstantopoulos2011")
    assert len(kon) == 56 and kon["district"].nunique() == 11
    assert len(kon[["district", "school"]].drop_duplicates()) == 56
    assert (kon["year"].min(), kon["year"].max()) == (1976, 2000)
    rau = ek.load_dataset("dat.raudenbush1985")
    assert len(rau) == 19 and (rau["year"].min(), rau["year"].max()) == (1966, 1974)
    aloe = ek.load_dataset("dat.aloe2013")
    assert len(aloe) == 5 and int((aloe["tval"] > 0).sum()) == 4
    crede = ek.load_dataset("dat.crede2010")
    assert len(crede) == 97 and crede["studyid"].nunique() == 68
    assert set(crede["criterion"]) == {"grade", "gpa"}
    gib = ek.load_dataset("dat.gibson2002")
    assert len(gib) == 15 and int(gib["ai"].notna().sum()) == 7
    bd = ek.load_dataset("dat.bangertdrowns2004")
    assert len(bd) == 48 and set(bd["grade"]) == {1, 2, 3, 4}
    ts = ek.load_dataset("dat.tannersmith2016")
    assert len(ts) == 113 and ts["studyid"].nunique() == 17 and int((ts["yi"] > 0).sum()) == 93
    assert (ts["aget1"].min(), ts["aget1"].max(), ts["aget2"].min(), ts["aget2"].max()) == (11, 17.68, 12, 20)
    lopez = ek.load_dataset("dat.lopez2019")
    assert lopez["study"].nunique() == 76


def test_raudenbush_figures_quoted_in_studies_yaml():
    """studies.yaml quotes REML estimates (2 decimals) for dat.raudenbush1985 by weeks of contact."""
    data = ek.load_dataset("dat.raudenbush1985")
    quoted = {"all": (0.08, -0.02, 0.18), "le1": (0.37, 0.19, 0.56), "gt1": (-0.02, -0.10, 0.06)}
    groups = {"all": data, "le1": data[data["weeks"] <= 1], "gt1": data[data["weeks"] > 1]}
    assert (len(groups["le1"]), len(groups["gt1"])) == (8, 11)
    for name, sub in groups.items():
        res = ek.meta_analysis(sub, method="REML")
        assert (res.estimate, res.ci_lower, res.ci_upper) == pytest.approx(quoted[name], abs=published_atol(2))
    text = (EVIDENCE / "studies.yaml").read_text(encoding="utf-8")
    assert "0.08 (95% CI -0.02 to 0.18), 0.37 (0.19 to 0.56)" in text and "-0.02 (-0.10 to\n      0.06)" in text
