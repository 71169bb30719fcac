"""effect_sizes against metafor 3.8 escalc(): fixtures written by tests/reference/effects.R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference
from scipy import integrate, special
from tolerances import CLOSED_FORM_ATOL, CLOSED_FORM_RTOL, KNOWN_DIVERGENCES

import evidence_kit as ek

REF = load_reference("effects")
CASES = REF["cases"]

# Every measure on the datasets the issue names, plus the synthetic grids; a case that disappears
# from the fixture (or a measure never exercised) fails here rather than passing silently.
EXPECTED_IDS = (
    [f"bcg_{m}" for m in ("OR", "RR", "RD", "PETO")]
    + ["bcg_RD_UB", "bcg_RD_AV", "bcg_OR_n1i_n2i", "bcg_RR_n1i_n2i"]
    + [f"zero_{m}_{t}" for m in ("OR", "RR", "RD", "PETO") for t in ("only0", "all", "if0all", "none", "add1", "drop00")]
    + ["normand_MD_LS", "normand_MD_HO"]
    + [f"normand_SMD_{v}" for v in ("LS", "UB", "LS2", "AV")]
    + ["normand_SMDH_LS", "normand_SMDH_LS2"]
    + [f"normand_ROM_{v}" for v in ("LS", "HO", "AV", "AVHO")]
    + ["molloy_COR", "molloy_COR_AV", "molloy_UCOR_LS", "molloy_UCOR_UB", "molloy_UCOR_AV", "molloy_ZCOR"]
    + ["grid_UCOR_LS", "grid_UCOR_UB", "grid_COR", "grid_ZCOR"]
    + ["aloe_PCOR_LS", "aloe_PCOR_AV", "aloe_ZPCOR", "aloe_SPCOR_LS", "aloe_SPCOR_AV"]
    + [f"pritz_{m}" for m in ("PR", "PLN", "PLO", "PAS", "PFT")]
    + ["pritz_PR_UB", "pritz_PR_AV", "pritz_PLN_AV", "pritz_PLO_AV", "pritz_PLO_xi_mi", "pritz_PAS_add05"]
    + [f"pritz_{m}_{t}" for t in ("all", "if0all", "none") for m in ("PR", "PLO", "PFT")]
    + [f"grid_{m}_{v}" for m in ("SMCC", "SMCR") for v in ("LS", "LS2")]
    + ["small_SMD", "missing_OR", "fill_OR", "normand_SMD_mixed", "normand_ROM_mixed"]
    + ["normand_SMD_di_ti", "normand_SMD_ti_UB"]
)


def test_fixture_grid_is_complete():
    assert sorted(CASES) == sorted(EXPECTED_IDS)
    assert {c["measure"] for c in CASES.values()} == set(ek.effects.MEASURES)


def test_fixture_records_versions_and_calls():
    assert REF["versions"]["metafor"].startswith("3.8")
    assert all(c["call"].startswith("escalc(measure=") for c in CASES.values())


def _run(case: dict) -> pd.DataFrame:
    options = case["options"] or {}
    if case["dataset"] is not None:
        data = ek.load_dataset(case["dataset"])
        if "n1" in case["columns"].values():
            data = data.assign(n1=data["tpos"] + data["tneg"], n2=data["cpos"] + data["cneg"])
        if "mi" in case["columns"].values():
            data = data.assign(mi=data["ni"] - data["xi"])
    else:
        data = pd.DataFrame({k: np.array(v, dtype=float) for k, v in case["inputs"].items()})
    return ek.effect_sizes(data, case["measure"], **options, **case["columns"])


def _compare(got: np.ndarray, want: list) -> None:
    want = np.array([np.nan if w is None else w for w in want], dtype=float)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg="NA pattern differs")
    np.testing.assert_allclose(got, want, rtol=CLOSED_FORM_RTOL, atol=CLOSED_FORM_ATOL, equal_nan=True)


def _gsl_rows(case: dict, column: str) -> np.ndarray:
    """Rows where metafor's gsl::hyperg_2F1 is inaccurate (KNOWN_DIVERGENCES): integer
    c - a - b (ni even) with z = 1 - r^2 near 1, and the UB variance at r = 0, ni = 5000."""
    ri, ni = np.array(case["inputs"]["ri"]), np.array(case["inputs"]["ni"])
    rows = np.isin(ni, [8, 10]) & (np.abs(ri) > 0) & (np.abs(ri) <= 0.05 + 1e-12)
    if column == "vi" and case["id"] == "grid_UCOR_UB":
        rows |= (ri == 0) & (ni == 5000)
    return rows


def _hyp2f1_quad(a, b, c, z):
    """Independent oracle: Euler's integral G(c)/(G(b)G(c-b)) int t^(b-1)(1-t)^(c-b-1)(1-zt)^-a dt."""
    f = lambda t: t ** (b - 1) * (1 - t) ** (c - b - 1) * (1 - z * t) ** (-a)  # noqa: E731
    val = integrate.quad(f, 0, 1, epsabs=0, epsrel=1e-13, limit=1000, points=[0.5])[0]
    return val * special.gamma(c) / (special.gamma(b) * special.gamma(c - b))


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_matches_metafor(case_id):
    case = CASES[case_id]
    out = _run(case)
    for column in ("yi", "vi"):
        got, want = out[column].to_numpy(), list(case[column])
        if case_id == "normand_SMDH_LS" and column == "vi":
            assert f"effects:{case_id}" in KNOWN_DIVERGENCES
            # metafor 3.8 multiplied this variance by c(m)^2; 4.6 and later do not (and neither do we)
            data = ek.load_dataset(case["dataset"])
            m = (data["n1i"] + data["n2i"] - 2).to_numpy(dtype=float)
            cm2 = np.exp(2 * (special.gammaln(m / 2) - np.log(np.sqrt(m / 2)) - special.gammaln((m - 1) / 2)))
            assert not np.allclose(got, np.array(want, dtype=float), rtol=1e-6)
            _compare(got * cm2, want)
            continue
        if f"effects:{case_id}" in KNOWN_DIVERGENCES and "UCOR" in case_id:
            rows = _gsl_rows(case, column)
            assert rows.any()
            # metafor really differs there (else the divergence entry is stale) ...
            wanted = np.array(want, dtype=float)[rows]
            assert not np.allclose(got[rows], wanted, rtol=CLOSED_FORM_RTOL, atol=CLOSED_FORM_ATOL)
            got, want = got[~rows], [w for w, r in zip(want, rows, strict=True) if not r]
        _compare(got, want)


def test_ucor_rows_where_gsl_is_inaccurate_match_quadrature():
    case = CASES["grid_UCOR_UB"]
    out = _run(case)
    ri, ni = np.array(case["inputs"]["ri"]), np.array(case["inputs"]["ni"])
    for i in np.flatnonzero(_gsl_rows(case, "yi")):
        z = 1 - ri[i] ** 2
        yi = ri[i] * _hyp2f1_quad(0.5, 0.5, (ni[i] - 2) / 2, z)
        assert out["yi"].iloc[i] == pytest.approx(yi, rel=1e-9)
        vi = yi**2 - (1 - (ni[i] - 3) / (ni[i] - 2) * z * _hyp2f1_quad(1.0, 1.0, ni[i] / 2, z))
        assert out["vi"].iloc[i] == pytest.approx(vi, rel=1e-9)
    # r = 0, ni = 5000: 2F1(1, 1; c; 1) = (c - 1)/(c - 2) exactly (Gauss), c = 2500
    i = np.flatnonzero((ri == 0) & (ni == 5000))[0]
    assert out["vi"].iloc[i] == pytest.approx(-(1 - 4997 / 4998 * 2499 / 2498), rel=1e-12)


def test_result_keeps_data_and_index():
    bcg = ek.load_dataset("dat.bcg").set_index("author")
    out = ek.effect_sizes(bcg, "OR", ai="tpos", bi="tneg", ci="cpos", di="cneg")
    assert out.index.equals(bcg.index)
    assert list(out.columns) == list(bcg.columns) + ["yi", "vi"]
    assert "yi" not in bcg.columns  # a copy: the input is untouched


def test_arrays_without_data():
    case = CASES["bcg_RR"]
    bcg = ek.load_dataset("dat.bcg")
    out = ek.effect_sizes(
        measure="RR",
        ai=bcg["tpos"].to_numpy(),
        bi=list(bcg["tneg"]),
        ci=bcg["cpos"],
        di=bcg["cneg"].to_numpy(),
    )
    assert isinstance(out.index, pd.RangeIndex)
    _compare(out["yi"].to_numpy(), case["yi"])
