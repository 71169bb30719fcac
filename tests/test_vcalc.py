"""vcalc against metafor's vcalc (tests/reference/models.R, section 1) and BlockCovariance
round trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from models_ref import CASES, block_v, cases_with, dataset
from scipy import sparse
from tolerances import CLOSED_FORM_ATOL, CLOSED_FORM_RTOL

import evidence_kit as ek
from evidence_kit.synthesis.vcalc import BlockCovariance, as_block_covariance, vcalc


def _kal2():
    kal = ek.load_dataset("dat.kalaian1996")
    trial = np.where(kal.study.str.startswith("Evans & Pike"), "Evans & Pike 1973",
                     np.where(kal.study.str.startswith("Curran"), "Curran 1988", kal.study))
    return kal.assign(trial=trial, grp1=kal.study.astype(str), grp2="control")


def _arms():
    c = CASES["vcalc/hasselblad1998_shared_control_OR"]["inputs"]
    return pd.DataFrame({k: c[k] for k in ("study", "trt", "n1i", "n2i", "yi", "vi")}).assign(
        grp2="no_contact")


# case id -> a function computing our V (a BlockCovariance)
GRID = {
    "vcalc/assink2016_obs_rho0.6":
        lambda: vcalc(dataset("assink2016"), "vi", "study", obs="esid", rho=0.6),
    "vcalc/assink2016_type_obs_rho0.7_0.5":
        lambda: vcalc(dataset("assink2016"), "vi", "study", type="deltype", obs="esid",
                      rho=(0.7, 0.5)),
    "vcalc/konstantopoulos2011_obs_rho0.6":
        lambda: vcalc(dataset("konstantopoulos2011"), "vi", "district", obs="study", rho=0.6),
    "vcalc/kalaian1996_type_rho0.66":
        lambda: vcalc(dataset("kalaian1996"), "vi", "study", type="outcome", rho=0.66),
    "vcalc/kalaian1996_shared_control":
        lambda: vcalc(_kal2(), "vi", "trial", type="outcome", grp1="grp1", grp2="grp2",
                      w1="n1i", w2="n2i", rho=0.66),
    "vcalc/kalaian1996_shared_control_equal_w":
        lambda: vcalc(_kal2().query("outcome == 'verbal'").reset_index(drop=True), "vi",
                      "trial", grp1="grp1", grp2="grp2"),
    "vcalc/hasselblad1998_shared_control_OR":
        lambda: vcalc(_arms(), "vi", "study", grp1="trt", grp2="grp2", w1="n1i", w2="n2i"),
    "vcalc/berkey1998_rvars": None,  # metafor's rvars: the data's own blocks (checked below)
    "vcalc/berkey1998_type_rho0.4":
        lambda: vcalc(dataset("berkey1998"), "vi", "trial", type="outcome", rho=0.4),
    "vcalc/ishak2007_time_phi0.97":
        lambda: vcalc(dataset("ishak2007_long"), "vi", "study", time1="time", phi=0.97),
}


def test_reference_grid_complete():
    assert cases_with("vcalc/") == set(GRID)


@pytest.mark.parametrize("case_id", sorted(c for c, f in GRID.items() if f is not None))
def test_matches_metafor(case_id):
    ours = GRID[case_id]().toarray()
    ref = block_v(case_id).toarray()
    np.testing.assert_allclose(ours, ref, rtol=CLOSED_FORM_RTOL, atol=CLOSED_FORM_ATOL)


def test_berkey_rvars_blocks():
    """vcalc(rvars = c(v1i, v2i)) copies each study's 2 x 2 block: BlockCovariance.from_blocks."""
    d = dataset("berkey1998")
    rows = [np.flatnonzero(d.author.to_numpy() == a) for a in pd.unique(d.author)]
    ours = BlockCovariance.from_blocks(len(d), rows,
                                       [d[["v1i", "v2i"]].to_numpy()[r][:, : r.size] for r in rows])
    np.testing.assert_array_equal(ours.toarray(), block_v("vcalc/berkey1998_rvars").toarray())


def test_shared_control_formula():
    """Two arms sharing a control: cov = (1/w2) sqrt(v1 v2) / sqrt((1/w1a + 1/w2)(1/w1b + 1/w2))."""
    d = pd.DataFrame({"s": [1, 1], "t": ["a", "b"], "c": ["k", "k"], "n1": [10.0, 20.0],
                      "n2": [15.0, 15.0], "vi": [0.2, 0.1]})
    V = vcalc(d, "vi", "s", grp1="t", grp2="c", w1="n1", w2="n2").toarray()
    r = (1 / 15) / np.sqrt((1 / 10 + 1 / 15) * (1 / 20 + 1 / 15))
    assert V[0, 1] == pytest.approx(r * np.sqrt(0.02), rel=1e-14)


def test_block_covariance_round_trips():
    V = vcalc(dataset("assink2016"), "vi", "study", obs="esid", rho=0.6)
    dense = V.toarray()
    assert V.n_blocks == 17
    np.testing.assert_array_equal(BlockCovariance.from_matrix(dense).toarray(), dense)
    np.testing.assert_array_equal(as_block_covariance(sparse.csr_matrix(dense), 100).toarray(), dense)
    np.testing.assert_array_equal(V.diagonal_values(), np.diag(dense))
    keep = np.arange(0, 100, 3)
    np.testing.assert_array_equal(V.subset(keep).toarray(), dense[np.ix_(keep, keep)])
    np.testing.assert_array_equal(V.submatrix(keep[:7]), dense[np.ix_(keep[:7], keep[:7])])
    with pytest.raises(ValueError, match="k = 99"):
        as_block_covariance(V, 99)


def test_bad_input():
    d = dataset("assink2016")
    with pytest.raises(ValueError, match="rho"):
        vcalc(d, "vi", "study", obs="esid")
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        vcalc(d, "vi", "study", obs="esid", rho=1.5)
    with pytest.raises(KeyError):
        vcalc(d, "vi", "nosuch", obs="esid", rho=0.5)
    with pytest.warns(RuntimeWarning, match="not positive definite"):
        rho = pd.DataFrame([[1, 0.99, -0.99], [0.99, 1, 0.99], [-0.99, 0.99, 1]],
                           index=[1, 2, 3], columns=[1, 2, 3])
        vcalc(pd.DataFrame({"s": [1, 1, 1], "o": [1, 2, 3], "vi": [1.0, 1.0, 1.0]}), "vi", "s",
              obs="o", rho=rho)
