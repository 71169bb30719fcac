"""Permutation tests against metafor permutest (exact enumeration; tests/reference/bias.R),
the vectorized refits against synthesis.fit, seeding and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference

import evidence_kit as ek
from evidence_kit.synthesis import fit
from evidence_kit.synthesis.permutation import _fit_many, permutation_test

REF = load_reference("bias")["cases"]
BCG = pd.DataFrame({key: REF["data"]["bcg"][key] for key in ("yi", "vi", "ablat")})


def test_reference_grid_complete():
    assert set(REF["permutest"]) == {f"{d}_{m}" for d in ("bcg", "bcg7_ablat")
                                     for m in ("REML", "DL", "EE")} | {"bcg7_ablat_REML_knha"}


@pytest.mark.parametrize("case_id", sorted(REF["permutest"]))
def test_exact_permutation_matches_permutest(case_id):
    ref = REF["permutest"][case_id]
    dat = BCG.iloc[: ref["rows"]]
    res = ek.meta_analysis(dat, method=ref["method"], mods=["ablat"] if ref["mods"] else None,
                           test=ref.get("test", "z"))
    out = permutation_test(res, 10_000)
    assert out.exact
    # p-values are counts over all permutations: they agree exactly up to float division
    np.testing.assert_allclose(out.coefficients["pvalue"], ref["pval"], rtol=1e-12)
    if ref["mods"]:
        np.testing.assert_allclose(out.qm_pvalue, ref["QMp"], rtol=1e-12)
        # metafor enumerates distinct row orders (two trials share ablat = 44: 7!/2 = 2520);
        # each distinct order appears equally often among our 7! orders, so p-values agree
        assert out.n_permutations == 5040 and ref["n_perm"] == 2520
    else:
        assert out.n_permutations == ref["n_perm"] == 2**13


@pytest.mark.parametrize("method", ["EE", "DL", "ML", "REML"])
@pytest.mark.parametrize("test", ["z", "knha"])
def test_vectorized_refits_equal_synthesis_fit(method, test):
    """Identity: each permuted model refitted in the (B, k, p) batch equals a separate fit."""
    rng = np.random.default_rng(3)
    y, v = BCG.yi.to_numpy(), BCG.vi.to_numpy()
    X = np.column_stack([np.ones(13), BCG.ablat.to_numpy()])
    orders = np.stack([rng.permutation(13) for _ in range(25)])
    z, qm = _fit_many(np.tile(y, (25, 1)), X[orders], v, method, test)
    for b in range(25):
        r = fit(y, v, X[orders[b]], method=method, test=test)
        np.testing.assert_allclose(z[b], r.coefficients["statistic"], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(qm[b], r.qm, rtol=1e-6)


def test_seeded_and_no_global_state():
    res = ek.meta_analysis(BCG, mods=["ablat"])
    state = np.random.get_state()  # noqa: NPY002 -- checking the legacy global state

    a = permutation_test(res, 300, seed=42)
    b = permutation_test(res, 300, rng=np.random.default_rng(42))
    after = np.random.get_state()  # noqa: NPY002
    assert state[0] == after[0] and np.array_equal(state[1], after[1])  # global state untouched
    np.testing.assert_array_equal(a.statistic_permuted, b.statistic_permuted)
    assert not a.exact and a.n_permutations == 300
    # the observed arrangement is the first permutation
    np.testing.assert_allclose(a.statistic_permuted[0], res.coefficients["statistic"], rtol=1e-6)
    c = permutation_test(res, 300, seed=43)
    assert not np.array_equal(a.statistic_permuted, c.statistic_permuted)


def test_random_p_values_near_exact_and_progress_bar(capsys):
    res = ek.meta_analysis(BCG.iloc[:7], mods=["ablat"])
    exact = permutation_test(res, 10_000)
    approx = permutation_test(res, 4000, seed=1, exact=False, progress=True)
    # Monte Carlo error of a p-value near 0.18 with 4,000 draws: sd ~ 0.006
    assert abs(approx.qm_pvalue - exact.qm_pvalue) < 0.03
    assert "permutations" in capsys.readouterr().err


def test_bad_input():
    res = ek.meta_analysis(BCG)
    with pytest.raises(ValueError, match="seed= or rng="):
        permutation_test(res, 100, seed=1, rng=np.random.default_rng(1))
    with pytest.raises(ValueError, match="at least 2"):
        permutation_test(res, 1)
    with pytest.raises(TypeError):
        permutation_test(BCG, 100)


def _fit_loop(Y, X, vi, method, test):
    """One synthesis.fit per permutation: the reference for the vectorized refits."""
    z = np.empty((Y.shape[0], X.shape[-1]))
    qm = np.full(Y.shape[0], np.nan)
    for b in range(Y.shape[0]):
        r = fit(Y[b], vi, X[b] if X.ndim == 3 else X, method=method, test=test)
        z[b] = r.coefficients["statistic"].to_numpy()
        qm[b] = np.nan if r.qm is None else r.qm
    return z, qm


@pytest.mark.parametrize("method", ["DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM"])
def test_every_estimator_is_vectorized_and_equals_one_fit_per_permutation(method):
    """All estimators run in the one kernel over (B, k) blocks: sign flips and row orders."""
    rng = np.random.default_rng(5)
    y, v = BCG.yi.to_numpy(), BCG.vi.to_numpy()
    X = np.column_stack([np.ones(13), BCG.ablat.to_numpy()])
    orders = np.stack([rng.permutation(13) for _ in range(10)])
    a = _fit_many(np.tile(y, (10, 1)), X[orders], v, method, "z")
    b = _fit_loop(np.tile(y, (10, 1)), X[orders], v, method, "z")
    np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-6)
    signs = rng.choice([-1.0, 1.0], size=(10, 13))
    a = _fit_many(signs * y, np.ones((13, 1)), v, method, "knha")
    b = _fit_loop(signs * y, np.ones((13, 1)), v, method, "knha")
    np.testing.assert_allclose(a[0], b[0], rtol=1e-6)


def test_loop_path_equals_vectorized_path():
    """PM permutations: exact enumeration through the vectorized path."""
    res = ek.meta_analysis(BCG.iloc[:6], method="PM", mods=["ablat"])
    out = permutation_test(res, 1000)  # 6! = 720 orders: exact
    assert out.exact and out.n_permutations == 720
    assert 1 / 720 <= out.qm_pvalue <= 1


def test_report_reads_like_a_table_in_text_and_html():
    dat = ek.load_dataset("dat.bangertdrowns2004").dropna(subset=["meta"])
    res = ek.permutation_test(ek.meta_analysis(dat, mods=["meta"]), n_permutations=50, seed=3,
                              progress=False)
    text = repr(res)
    assert text.startswith("Permutation test (50 random permutations)")
    assert "pvalue_model" in text and "Omnibus test of moderators: QM = " in text
    assert "<table" in res._repr_html_()
