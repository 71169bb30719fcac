"""Sampling covariance matrices of dependent effect sizes, as metafor's ``vcalc()``, stored block-sparse.

Effects from the same study (cluster) are correlated: several outcomes measured on one sample,
several treatment arms compared with one shared control group, repeated measurements over time.
``vcalc`` builds the k x k matrix V of their sampling covariances from identifiers and an assumed
correlation, and ``BlockCovariance`` stores it as its diagonal blocks (one per cluster), so memory
is linear in k for bounded cluster sizes. Models take it as ``V=``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from evidence_kit._core.validate import check_rows, get_column

__all__ = ["BlockCovariance", "as_block_covariance", "vcalc"]


@dataclass(frozen=True, eq=False)
class BlockCovariance:
    """A k x k block-diagonal covariance matrix kept as its blocks.

    Row i sits in block ``block_of[i]`` at position ``pos[i]``; block b has ``sizes[b]`` rows and
    its entries are ``flat[offsets[b] : offsets[b] + sizes[b]**2]`` in row-major order. Blocks are
    numbered in order of first appearance; rows keep the data order.
    """

    k: int
    block_of: np.ndarray = field(repr=False)
    pos: np.ndarray = field(repr=False)
    sizes: np.ndarray = field(repr=False)
    flat: np.ndarray = field(repr=False)

    @property
    def n_blocks(self) -> int:
        return int(self.sizes.shape[0])

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.sizes.astype(np.int64) ** 2)[:-1]])

    def __repr__(self) -> str:
        return (f"BlockCovariance(k={self.k}, blocks={self.n_blocks}, "
                f"largest block={int(self.sizes.max()) if self.n_blocks else 0})")

    # ----- construction -------------------------------------------------------------------
    @classmethod
    def diagonal(cls, vi) -> BlockCovariance:
        """diag(vi): one block per row."""
        vi = np.asarray(vi, dtype=float).ravel()
        k = vi.shape[0]
        return cls(k, np.arange(k), np.zeros(k, dtype=np.intp), np.ones(k, dtype=np.intp), vi.copy())

    @classmethod
    def from_blocks(cls, k: int, rows, matrices) -> BlockCovariance:
        """From a list of row-index arrays and the matching dense blocks."""
        block_of = np.full(k, -1, dtype=np.intp)
        pos = np.zeros(k, dtype=np.intp)
        sizes = np.empty(len(rows), dtype=np.intp)
        for b, r in enumerate(rows):
            r = np.asarray(r, dtype=np.intp)
            if np.any(block_of[r] >= 0):
                raise ValueError("blocks overlap: a row belongs to two blocks")
            block_of[r] = b
            pos[r] = np.arange(r.size)
            sizes[b] = r.size
        if np.any(block_of < 0):
            raise ValueError("blocks do not cover every row")
        mats = [np.asarray(m, dtype=float) for m in matrices]
        for r, m in zip(rows, mats, strict=True):
            if m.shape != (len(r), len(r)):
                raise ValueError(f"a block of {len(r)} rows has a {m.shape} matrix")
        flat = np.concatenate([m.ravel() for m in mats]) if mats else np.zeros(0)
        return cls(k, block_of, pos, sizes, flat)

    @classmethod
    def from_matrix(cls, M) -> BlockCovariance:
        """From a dense array or scipy.sparse matrix: blocks are the connected components of the
        non-zero pattern (rows that share no non-zero covariance, directly or through others,
        fall in different blocks)."""
        S = sparse.csr_matrix(M)
        k = S.shape[0]
        if S.shape != (k, k):
            raise ValueError(f"V must be square; got {S.shape}")
        if abs(S - S.T).max() > 1e-10 * max(abs(S).max(), 1e-300):
            raise ValueError("V must be symmetric")
        _, labels = connected_components(S != 0, directed=False)
        labels = pd.factorize(labels)[0]  # order of first appearance
        order = np.argsort(labels, kind="stable")
        bounds = np.flatnonzero(np.diff(labels[order])) + 1
        rows = np.split(order, bounds)
        return cls.from_blocks(k, rows, [S[r][:, r].toarray() for r in rows])

    # ----- access -------------------------------------------------------------------------
    def rows(self) -> list[np.ndarray]:
        """Row indices of each block."""
        order = np.lexsort((self.pos, self.block_of))
        return np.split(order, np.cumsum(self.sizes)[:-1])

    def blocks(self) -> list[np.ndarray]:
        """The dense blocks, in block order."""
        off = self.offsets
        return [self.flat[o:o + n * n].reshape(n, n) for o, n in zip(off, self.sizes, strict=True)]

    def diagonal_values(self) -> np.ndarray:
        """diag(V), the sampling variances."""
        return self.flat[self.offsets[self.block_of] + self.pos * (self.sizes[self.block_of] + 1)]

    def submatrix(self, idx) -> np.ndarray:
        """Dense V[idx][:, idx] (zeros between blocks)."""
        idx = np.asarray(idx, dtype=np.intp)
        return self.stack(idx[None, :])[0]

    def stack(self, idx: np.ndarray) -> np.ndarray:
        """Dense V[idx_b][:, idx_b] for every row ``idx_b`` of the (m, n) index array: (m, n, n)."""
        b = self.block_of[idx]
        same = b[:, :, None] == b[:, None, :]
        n_b = self.sizes[b]
        where = (self.offsets[b] + self.pos[idx] * n_b)[:, :, None] + self.pos[idx][:, None, :]
        return np.where(same, self.flat[np.where(same, where, 0)], 0.0)

    def subset(self, keep) -> BlockCovariance:
        """V restricted to the rows ``keep`` (boolean mask or indices), in that order."""
        keep = np.flatnonzero(keep) if np.asarray(keep).dtype == bool else np.asarray(keep)
        b = self.block_of[keep]
        order = np.argsort(b, kind="stable")
        bounds = np.flatnonzero(np.diff(b[order])) + 1
        groups = np.split(order, bounds) if keep.size else []
        return BlockCovariance.from_blocks(keep.size, groups,
                                           [self.submatrix(keep[g]) for g in groups])

    def toarray(self) -> np.ndarray:
        """The dense k x k matrix (for small k)."""
        return self.tosparse().toarray()

    def tosparse(self) -> sparse.csr_matrix:
        """The k x k matrix as scipy.sparse CSR."""
        rows = self.rows()
        ii = np.concatenate([np.repeat(r, r.size) for r in rows])
        jj = np.concatenate([np.tile(r, r.size) for r in rows])
        return sparse.csr_matrix((self.flat, (ii, jj)), shape=(self.k, self.k))


def as_block_covariance(V, k: int) -> BlockCovariance:
    """Accept a BlockCovariance, a dense k x k array, a scipy.sparse matrix or a 1-d vector of
    variances (diagonal V)."""
    if isinstance(V, BlockCovariance):
        out = V
    elif sparse.issparse(V):
        out = BlockCovariance.from_matrix(V)
    else:
        arr = np.asarray(V, dtype=float)
        out = BlockCovariance.diagonal(arr) if arr.ndim == 1 else BlockCovariance.from_matrix(arr)
    if out.k != k:
        raise ValueError(f"V is {out.k} x {out.k} but there are k = {k} effects")
    return out


# --------------------------------------------------------------------------------------------
# vcalc


def _labels(data, value, name, k):
    if value is None:
        return None
    if isinstance(value, str):
        if data is None or value not in data.columns:
            get_column(data, value, name)  # raises the standard error
        raw = data[value]
    else:
        raw = value
    arr = pd.Series(np.asarray(raw, dtype=object).ravel())
    if arr.shape[0] != k:
        raise ValueError(f"{name} has {arr.shape[0]} values but vi has {k}")
    check_rows(arr.isna().to_numpy(), name, f"missing values in {name!r}", arr.to_numpy())
    return arr.to_numpy()


def _rho_lookup(rho, labels, name):
    """Correlation between two labels: a scalar (1 on the diagonal) or a DataFrame indexed by label."""
    if isinstance(rho, pd.DataFrame):
        missing = [v for v in pd.unique(labels) if v not in rho.index or v not in rho.columns]
        if missing:
            raise ValueError(f"rho: no row/column for {name} values {missing[:5]}")
        mat = rho.loc[list(pd.unique(labels)), list(pd.unique(labels))].to_numpy(dtype=float)
    else:
        r = float(rho)
        u = pd.unique(labels)
        mat = np.full((u.size, u.size), r)
        np.fill_diagonal(mat, 1.0)
    if np.any(np.abs(mat) > 1):
        raise ValueError("rho: correlations must be in [-1, 1]")
    codes = pd.factorize(labels)[0]
    return mat, codes


def vcalc(
    data: pd.DataFrame | None = None,
    vi="vi",
    cluster="study",
    *,
    obs=None,
    type=None,  # noqa: A002 - metafor's name
    subgroup=None,
    rho=None,
    time1=None,
    time2=None,
    phi=None,
    grp1=None,
    grp2=None,
    w1=None,
    w2=None,
    checkpd: bool = True,
) -> BlockCovariance:
    """Sampling covariance matrix of dependent effects (metafor ``vcalc``), block-sparse.

    Parameters
    ----------
    data : DataFrame, optional
        Holds the columns named by the other arguments.
    vi : str or array-like
        Sampling variances (the diagonal of V).
    cluster : str or array-like
        Study (or sample) identifiers: effects in different clusters are independent.
    obs : str or array-like, optional
        Identifies different outcomes (observations) within a cluster; two effects of one cluster
        with different ``obs`` correlate ``rho``. Give each effect its own id (e.g. ``esid``)
        for the constant-correlation working model of Pustejovsky & Tipton (2022).
    type : str or array-like, optional
        Different constructs: effects of different types correlate by ``rho`` (with ``obs`` too,
        ``rho=(within construct, between constructs)``).
    subgroup : str or array-like, optional
        Independent subgroups within a cluster (cluster and subgroup together form the block).
    rho : float, DataFrame or pair
        Correlation(s): a scalar, or a DataFrame indexed by the ``obs`` (or ``type``) labels.
    time1, time2, phi : optional
        Time points of the groups and the autocorrelation phi: phi^|t - t'| between measurements.
    grp1, grp2, w1, w2 : optional
        Group identifiers of the two groups each effect compares (e.g. treatment arm, control)
        and their weights (usually group sizes): effects sharing a group correlate, as for several
        treatment arms compared with one control (Gleser & Olkin 2009).
    checkpd : bool
        Warn about blocks that are not positive definite.

    Returns
    -------
    BlockCovariance

    Notes
    -----
    V = S R S with S = diag(sqrt(v_i)) and, for effects i != j of one cluster,
    R_ij = rho_ij (g11 / sqrt(w1_i w1_j) - g12 / sqrt(w1_i w2_j) - g21 / sqrt(w2_i w1_j)
    + g22 / sqrt(w2_i w2_j)) / (s_i s_j), s_i = sqrt(1/w1_i + 1/w2_i - 2 g_i / sqrt(w1_i w2_i)),
    where g_ab = [grp_a(i) = grp_b(j)] phi^|time_a(i) - time_b(j)| (metafor ``vcalc``; for two
    arms sharing a control of weight w2 this is (1/w2) / sqrt((1/w1_i + 1/w2)(1/w1_j + 1/w2)),
    the shared-control covariance of Gleser & Olkin 2009), and rho_ij is 1 for the same
    outcome, rho[obs_i, obs_j] for different outcomes of one construct and rho[type_i, type_j]
    between constructs.

    Examples
    --------
    >>> import evidence_kit as ek
    >>> dat = ek.load_dataset("dat.assink2016")
    >>> V = ek.vcalc(dat, "vi", "study", obs="esid", rho=0.6)
    >>> V.n_blocks
    17
    """
    v = get_column(data, vi, "vi")
    k = v.shape[0]
    check_rows(~np.isfinite(v) | (v < 0), "vi", "sampling variances must be finite and >= 0", v)
    cl = _labels(data, cluster, "cluster", k)
    if cl is None:
        raise ValueError("cluster: give the study (cluster) identifiers")
    sg = _labels(data, subgroup, "subgroup", k)
    if sg is not None:
        cl = np.array([f"{a}.{b}" for a, b in zip(cl, sg, strict=True)], dtype=object)
    ob = _labels(data, obs, "obs", k)
    ty = _labels(data, type, "type", k)
    if (ob is not None or ty is not None) and rho is None:
        raise ValueError("rho: give the correlation when obs or type is specified")
    if ob is not None and ty is not None:
        if not (isinstance(rho, (tuple, list)) and len(rho) == 2):
            raise ValueError("rho: with both obs and type, give (within-construct, between-construct)")
        rho_obs, rho_type = rho
    elif ty is not None:
        rho_obs, rho_type = 0.0, rho
    else:
        rho_obs, rho_type = (rho if ob is not None else 0.0), 0.0
    ob = np.ones(k, dtype=object) if ob is None else ob
    ty = np.ones(k, dtype=object) if ty is None else ty
    R_obs, c_obs = _rho_lookup(rho_obs, ob, "obs")
    R_type, c_type = _rho_lookup(rho_type, ty, "type")

    t1 = None if time1 is None else get_column(data, time1, "time1", n=k)
    t2 = t1 if time2 is None else get_column(data, time2, "time2", n=k)
    if (time1 is not None or time2 is not None) and phi is None:
        raise ValueError("phi: give the autocorrelation when time1/time2 is specified")
    if time2 is not None and time1 is None:
        raise ValueError("time2 needs time1")
    phi = 1.0 if phi is None else float(phi)
    if abs(phi) > 1:
        raise ValueError("phi must be in [-1, 1]")
    if t1 is None:
        t1 = t2 = np.ones(k)
    if grp2 is not None and grp1 is None:
        raise ValueError("grp2 needs grp1")
    g1 = np.zeros(k, dtype=np.intp) if grp1 is None else pd.factorize(_labels(data, grp1, "grp1", k))[0]
    if grp2 is None:
        g2 = np.full(k, -1, dtype=np.intp)  # metafor's defaults grp1 = 1, grp2 = 2: never equal
    else:
        both = pd.factorize(np.concatenate([_labels(data, grp1, "grp1", k),
                                            _labels(data, grp2, "grp2", k)]))[0]
        g1, g2 = both[:k], both[k:]
    a1 = np.ones(k) if w1 is None else 1.0 / get_column(data, w1, "w1", n=k)
    a2 = a1 if w2 is None else 1.0 / get_column(data, w2, "w2", n=k)

    # all pairs within a cluster, rows ordered by cluster (first appearance), data order inside
    ccode = pd.factorize(cl)[0]
    order = np.argsort(ccode, kind="stable")
    sizes = np.bincount(ccode)
    size_row = sizes[ccode[order]]
    start_row = (np.cumsum(sizes) - sizes)[ccode[order]]
    ii = np.repeat(order, size_row)  # row i of each pair, block-major
    jj = order[np.repeat(start_row, size_row) + _ramp(size_row)]

    def g(ga, gb, ta, tb):  # [grp_a(i) = grp_b(j)] phi^|t_a(i) - t_b(j)|
        dt = np.abs(ta - tb)
        return (ga == gb) * np.where(dt == 0, 1.0, phi ** dt)

    num = (g(g1[ii], g1[jj], t1[ii], t1[jj]) * np.sqrt(a1[ii] * a1[jj])
           - g(g1[ii], g2[jj], t1[ii], t2[jj]) * np.sqrt(a1[ii] * a2[jj])
           - g(g2[ii], g1[jj], t2[ii], t1[jj]) * np.sqrt(a2[ii] * a1[jj])
           + g(g2[ii], g2[jj], t2[ii], t2[jj]) * np.sqrt(a2[ii] * a2[jj]))
    s = np.sqrt(a1 + a2 - 2 * g(g1, g2, t1, t2) * np.sqrt(a1 * a2))
    same_type = ty[ii] == ty[jj]
    r = np.where(same_type, np.where(ob[ii] == ob[jj], 1.0, R_obs[c_obs[ii], c_obs[jj]]),
                 R_type[c_type[ii], c_type[jj]])
    with np.errstate(invalid="ignore", divide="ignore"):
        R = r * num / (s[ii] * s[jj])  # metafor vcalc; Gleser & Olkin 2009 for shared groups
    R[ii == jj] = 1.0
    flat = np.sqrt(v[ii]) * R * np.sqrt(v[jj])  # V = S R S
    block_of = ccode
    pos = np.empty(k, dtype=np.intp)
    pos[order] = _ramp(sizes)
    out = BlockCovariance(k, block_of, pos, sizes.astype(np.intp), flat)
    if checkpd:
        _warn_not_pd(out, cl)
    return out


def _ramp(sizes: np.ndarray) -> np.ndarray:
    """0, 1, ..., n_1 - 1, 0, 1, ..., n_2 - 1, ... for the given run lengths (each repeated as the
    pair layout needs: for ``size_row`` runs the ramp restarts every n)."""
    sizes = np.asarray(sizes, dtype=np.intp)
    total = int(sizes.sum())
    starts = np.cumsum(sizes) - sizes
    return np.arange(total) - np.repeat(starts, sizes)


def _warn_not_pd(V: BlockCovariance, cl) -> None:
    for n in np.unique(V.sizes):
        if n == 1:
            continue
        ids = np.flatnonzero(V.sizes == n)
        stack = V.flat[V.offsets[ids][:, None] + np.arange(n * n)].reshape(-1, n, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.sqrt(np.einsum("bii->bi", stack))
            corr = stack / (d[:, :, None] * d[:, None, :])
        eig = np.linalg.eigvalsh(np.nan_to_num(corr))
        bad = ids[eig.min(axis=1) <= np.finfo(float).eps]
        if bad.size:
            first = pd.unique(cl)[bad[:5]]
            warnings.warn(f"vcalc: the covariance matrix is not positive definite in cluster(s) "
                          f"{', '.join(map(str, first))}", RuntimeWarning, stacklevel=3)
