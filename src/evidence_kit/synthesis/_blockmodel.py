"""Private numerics of linear mixed models with a block-sparse marginal covariance (rma.mv with V).

The marginal covariance is

    V(theta) = blockdiag_b( V_b + sum_m theta_m D_mb ) + sum_l sigma_l Z_l Z_l'

where V_b is the known sampling covariance on block b, D_mb are fixed 0/1 patterns of the random
effects that live inside blocks (random intercepts of groups nested in blocks, the outcome-by-study
effects of a multivariate model), and Z_l are the indicator matrices of nested grouping levels that
contain whole blocks (district above study). Blocks are the smallest row sets closed under V's
non-zero pattern and the inner groupings, so for bounded block sizes time and memory are linear in k:

- inner part: blocks of equal size are stacked and inverted at once (numpy's batched ``inv`` and
  ``slogdet``), no k x k matrix is formed;
- outer levels: one Sherman-Morrison step per level and group, A_new^-1 = A^-1 - s A^-1 1_g 1_g'
  A^-1 / (1 + s 1_g' A^-1 1_g), with group sums by ``np.bincount`` (as ``multilevel.solve_nested``).

The (restricted) log-likelihood and its score with respect to the linear coefficients theta and
sigma, d ll / d theta_m = -1/2 tr(P D_m) + 1/2 e'V^-1 D_m V^-1 e (Harville 1977, J Am Stat Assoc
72:320, eq. 4.6; P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1), are computed block-wise. Parametrisations
(log variances, atanh correlations) map to theta through a Jacobian.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from evidence_kit.synthesis.vcalc import BlockCovariance

__all__ = ["BlockEngine", "Parametrization", "maximize"]


def _cross(A, B):
    return np.einsum("ki,kj->ij", A, B)


def _parent(inner: np.ndarray, outer: np.ndarray) -> np.ndarray:
    out = np.empty(int(inner.max()) + 1, dtype=np.intp)
    out[inner] = outer
    return out


def join_blocks(k: int, groupings) -> np.ndarray:
    """Block label per row: connected components of 'same group' over all groupings."""
    rows, cols = [], []
    for g in groupings:
        g = np.asarray(g)
        first = np.full(int(g.max()) + 1, -1, dtype=np.intp)
        first[g[::-1]] = np.arange(k)[::-1]  # first row of each group
        rows.append(np.arange(k))
        cols.append(first[g])
    A = sparse.csr_matrix((np.ones(sum(r.size for r in rows)),
                           (np.concatenate(rows), np.concatenate(cols))), shape=(k, k))
    _, labels = connected_components(A, directed=False)
    return pd.factorize(labels)[0]


def nested_in(inner: np.ndarray, outer: np.ndarray) -> bool:
    """True when every group of ``inner`` lies inside one group of ``outer``."""
    inner = np.asarray(inner)
    first = np.empty(int(inner.max()) + 1, dtype=np.intp)
    first[inner[::-1]] = np.arange(inner.size)[::-1]  # first row of each inner group
    return bool(np.all(np.asarray(outer)[first[inner]] == outer))


@dataclass
class _Class:
    """Blocks of one size n, stacked."""

    idx: np.ndarray  # (nb, n) row indices
    V: np.ndarray  # (nb, n, n)
    D: list  # per inner parameter: (nb, n, n)
    identity: list  # per inner parameter: is D the identity (effect-level variance)?


class BlockEngine:
    """Solves with V(theta, sigma) and evaluates the (restricted) likelihood and its score.

    Parameters
    ----------
    Vcov : BlockCovariance
        Known sampling covariance.
    inner_groupings : list of int arrays
        Groupings whose groups must lie inside a block (they define the blocks with V).
    patterns : list of callables
        ``pattern(idx) -> (nb, n, n)`` float stack of D_m for row-index stacks ``idx``.
    outer_codes : (k, L) int array or None
        Nested group codes of the outer levels, outermost first; each must contain whole blocks.
    """

    def __init__(self, Vcov: BlockCovariance, inner_groupings, patterns, outer_codes=None):
        k = Vcov.k
        self.k = k
        self.n_inner = len(patterns)
        block = join_blocks(k, [Vcov.block_of, *inner_groupings])
        self.outer = (np.zeros((k, 0), dtype=np.intp) if outer_codes is None
                      else np.asarray(outer_codes, dtype=np.intp).reshape(k, -1))
        for j in range(self.outer.shape[1]):
            if not nested_in(block, self.outer[:, j]):
                raise ValueError("an outer level splits a block of correlated effects: the "
                                 "sampling covariance V must be zero between its groups")
        self.block = block
        sizes = np.bincount(block)
        order = np.argsort(block, kind="stable")
        starts = np.cumsum(sizes) - sizes
        self.classes: list[_Class] = []
        for n in np.unique(sizes):
            ids = np.flatnonzero(sizes == n)
            idx = order[starts[ids][:, None] + np.arange(n)]
            D = [f(idx) for f in patterns]
            eye = np.eye(n)
            self.classes.append(_Class(idx, Vcov.stack(idx), D,
                                       [bool(np.all(d == eye)) for d in D]))

    # ----- solving ------------------------------------------------------------------------
    def solve(self, theta, sigma, U, *, score=False):
        """V^-1 U, log|V| and (with ``score``) what the score needs. ``theta``: inner linear
        coefficients; ``sigma``: outer level variances (outermost first)."""
        k = self.k
        Wu = np.empty_like(U)
        r = np.empty(k)
        logdet = 0.0
        inv = []
        for c in self.classes:
            S = c.V.copy()
            for t, D, ident in zip(theta, c.D, c.identity, strict=True):
                if ident:
                    S[:, np.arange(S.shape[1]), np.arange(S.shape[1])] += t
                else:
                    S += t * D
            try:
                chol = np.linalg.cholesky(S)  # positive definite, and log|S| = 2 sum log L_ii
            except np.linalg.LinAlgError:
                return None
            logdet += 2.0 * float(np.sum(np.log(np.einsum("bii->bi", chol))))
            Si = np.linalg.inv(S)
            Wu[c.idx] = Si @ U[c.idx]
            r[c.idx] = Si.sum(axis=2)
            inv.append(Si)
        L = self.outer.shape[1]
        quad: list = [None] * L
        link: list = [None] * L
        steps = []  # (r before the step, s / denom per row) for the inner-trace correction
        for j in range(L - 1, -1, -1):
            g = self.outer[:, j]
            ng = int(g.max()) + 1
            a = np.bincount(g, weights=r, minlength=ng)  # 1_g' A^-1 1_g
            denom = 1.0 + sigma[j] * a
            if np.any(denom <= 0):
                return None
            logdet += float(np.sum(np.log(denom)))
            t = np.stack([np.bincount(g, weights=Wu[:, c], minlength=ng)
                          for c in range(Wu.shape[1])], axis=1)
            Wu = Wu - sigma[j] * r[:, None] * (t / denom[:, None])[g]
            if score:
                steps.append((r, (sigma[j] / denom)[g]))
                for i in range(j + 1, L):
                    parent = _parent(self.outer[:, i], g)
                    quad[i] = quad[i] - sigma[j] * link[i] ** 2 / denom[parent]
                    link[i] = link[i] / denom[parent]
                quad[j] = a / denom
                link[j] = a / denom
            r = r / denom[g]
        return Wu, logdet, (inv, steps, quad)

    # ----- likelihood ---------------------------------------------------------------------
    def loglik(self, theta, sigma, y, X, reml, logdet_xx, *, score=False):
        """(Restricted) log-likelihood and, with ``score``, d ll / d (theta, sigma)."""
        k, p = X.shape
        out = self.solve(theta, sigma, np.column_stack([X, y]), score=score)
        if out is None:
            return -np.inf, None
        Wu, logdet, (inv, steps, quad) = out
        VX, Vy = Wu[:, :p], Wu[:, p]
        XtWX = _cross(X, VX)
        try:
            chol = np.linalg.cholesky(XtWX)
        except np.linalg.LinAlgError:
            return -np.inf, None
        M = np.linalg.inv(XtWX)
        b = M @ (X.T @ Vy)
        Pe = Vy - VX @ b
        rss = float(y @ Pe)
        if reml:
            ll = (-0.5 * (k - p) * np.log(2 * np.pi) + 0.5 * logdet_xx - 0.5 * logdet
                  - float(np.sum(np.log(np.diag(chol)))) - 0.5 * rss)
        else:
            ll = -0.5 * k * np.log(2 * np.pi) - 0.5 * logdet - 0.5 * rss
        if not score:
            return ll, None
        grad = np.empty(self.n_inner + self.outer.shape[1])
        for m in range(self.n_inner):
            tr = quadform = 0.0
            G = np.zeros((p, p))
            for c, Si in zip(self.classes, inv, strict=True):
                D = c.D[m]
                # the vectors D acts on: Pe, the carried r of each outer step, V^-1 X (REML)
                Z = np.concatenate([Pe[c.idx][:, :, None]]
                                   + [rb[c.idx][:, :, None] for rb, _ in steps]
                                   + ([VX[c.idx]] if reml else []), axis=2)
                DZ = Z if c.identity[m] else D @ Z
                ZDZ = np.einsum("bia,bia->ba", Z[:, :, : 1 + len(steps)],
                                DZ[:, :, : 1 + len(steps)])  # z'Dz per block
                tr += (float(np.einsum("bii->", Si)) if c.identity[m]
                       else float(np.einsum("bij,bij->", Si, D)))  # D symmetric
                for s_i, (_, coef) in enumerate(steps):  # Sherman-Morrison corrections
                    tr -= float(coef[c.idx[:, 0]] @ ZDZ[:, 1 + s_i])
                quadform += float(np.sum(ZDZ[:, 0]))
                if reml:
                    q0 = 1 + len(steps)
                    G += np.einsum("bia,bic->ac", Z[:, :, q0:], DZ[:, :, q0:])
            if reml:
                tr -= float(np.sum(M * G))
            grad[m] = -0.5 * tr + 0.5 * quadform
        for j in range(self.outer.shape[1]):
            g = self.outer[:, j]
            ng = quad[j].shape[0]
            zpe = np.bincount(g, weights=Pe, minlength=ng)
            tr = float(np.sum(quad[j]))
            if reml:
                S = np.stack([np.bincount(g, weights=VX[:, c], minlength=ng) for c in range(p)],
                             axis=1)
                tr -= float(np.einsum("gi,ij,gj->", S, M, S))
            grad[self.n_inner + j] = -0.5 * tr + 0.5 * float(zpe @ zpe)
        return ll, grad

    def diag_inverse(self, theta, sigma) -> np.ndarray:
        """diag(V^-1): block inverses minus the Sherman-Morrison terms of the outer levels,
        diag(A_new^-1)_i = diag(A^-1)_i - s r_i^2 / (1 + s 1_g'r)."""
        out = self.solve(theta, sigma, np.zeros((self.k, 1)), score=True)
        if out is None:
            raise ValueError("the marginal covariance is not positive definite")
        _, _, (inv, steps, _) = out
        d = np.empty(self.k)
        for c, Si in zip(self.classes, inv, strict=True):
            d[c.idx] = np.einsum("bii->bi", Si)
        for r_before, coef in steps:
            d -= coef * r_before**2
        return d

    def gls(self, theta, sigma, y, X):
        """beta, its covariance (X'V^-1X)^-1 and V^-1 (y - X beta)."""
        p = X.shape[1]
        Wu, _, _ = self.solve(theta, sigma, np.column_stack([X, y]))
        vb = np.linalg.inv(_cross(X, Wu[:, :p]))
        vb = 0.5 * (vb + vb.T)
        beta = vb @ (X.T @ Wu[:, p])
        return beta, vb, Wu[:, p] - Wu[:, :p] @ beta


# --------------------------------------------------------------------------------------------
# parametrisation and the optimiser


@dataclass(frozen=True)
class Parametrization:
    """Maps unconstrained phi to the linear coefficients (theta inner..., sigma outer...).

    ``kind[i]`` is "log" (a variance, phi = log value) or "atanh" (a correlation);
    ``to_linear(phi)`` returns the coefficient vector and its Jacobian d coef / d phi.
    """

    kind: tuple
    to_linear: object
    n_inner: int
    fixed: tuple = ()  # (index, value) pairs held at a value (profiling)

    def bounds(self, lo, hi):
        box = {"log": (lo, hi), "atanh": (-12.0, 12.0), "loghalf": (lo / 2, hi / 2),
               "free": (-1e150, 1e150)}
        return [box[k] for k in self.kind]


def maximize(engine: BlockEngine, par: Parametrization, y, X, reml: bool, start, lo, hi,
             fixed: dict | None = None, *, maxiter: int = 200):
    """Maximise the (restricted) likelihood over phi (some components may be held fixed).

    Projected Newton: the analytic score, a Hessian from forward differences of the score
    (made positive definite by taking absolute eigenvalues), components at a bound with the
    score pointing outwards held there, and backtracking (Armijo) line searches
    that also step back from points where V is not positive definite. Iterates to a zero score rather than
    stopping near the optimum. Everything is numpy without BLAS-threaded calls on tiny arrays
    (scipy's L-BFGS-B stalls for milliseconds per iteration in its threaded BLAS on a busy
    machine). Returns (phi, ll, converged).
    """
    fixed = dict(fixed or {})
    n = len(par.kind)
    free_idx = np.array([i for i in range(n) if i not in fixed], dtype=np.intp)
    logdet_xx = float(np.linalg.slogdet(_cross(X, X))[1])
    box = par.bounds(lo, hi)
    lower = np.array([box[i][0] for i in free_idx], dtype=float)
    upper = np.array([box[i][1] for i in free_idx], dtype=float)

    def full(x):
        phi = np.empty(n)
        for i, v in fixed.items():
            phi[i] = v
        phi[free_idx] = x
        return phi

    def fg(x):
        coef, J = par.to_linear(full(x))
        ll, g = engine.loglik(coef[:par.n_inner], coef[par.n_inner:], y, X, reml, logdet_xx,
                              score=True)
        if not np.isfinite(ll):
            return np.inf, None
        return -ll, -np.einsum("ij,i->j", J, g)[free_idx]

    x = np.clip(np.asarray(start, dtype=float)[free_idx], lower, upper)
    f, g = fg(x)
    if free_idx.size == 0:
        return full(x), -f, bool(np.isfinite(f))
    if not np.isfinite(f):
        raise ValueError("the marginal covariance is not positive definite at the start values")
    edge = 1e-8

    def fd_hessian(x, g, free):
        idx = np.flatnonzero(free)
        H = np.empty((idx.size, idx.size))
        for a, i in enumerate(idx):
            h = 1e-6 * max(1.0, abs(x[i]))
            e = np.zeros(x.size)
            e[i] = h if x[i] + h <= upper[i] else -h
            g2 = fg(x + e)[1]
            H[a] = (g2[free] - g[free]) / e[i] if g2 is not None else np.nan
        H = 0.5 * (H + H.T)
        if not np.all(np.isfinite(H)):
            return np.eye(idx.size)
        w, Q = np.linalg.eigh(H)
        w = np.maximum(np.abs(w), max(1e-8 * np.max(np.abs(w)), 1e-12))
        return np.einsum("ij,j,kj->ik", Q, w, Q)

    H, H_free, reuse = None, None, False
    for _ in range(maxiter):
        active = ((x <= lower + edge) & (g > 0)) | ((x >= upper - edge) & (g < 0))
        free = ~active
        if not free.any():
            break
        gf = g[free]
        if np.max(np.abs(gf)) < 1e-10 * max(1.0, abs(f)):
            break
        # a fresh Hessian each step (Newton needs ~4 steps where BFGS updates needed ~10),
        # except after a full step that cut the score tenfold: near the optimum the previous
        # Hessian finishes the job (one score evaluation instead of 1 + n)
        if not (reuse and H is not None and H.shape[0] == gf.size
                and np.array_equal(free, H_free)):
            H, H_free = fd_hessian(x, g, free), free.copy()
        d = -np.linalg.solve(H, gf)
        if -float(np.dot(gf, d)) < 1e-15 * max(1.0, abs(f)):
            break  # the Newton decrement is at the rounding level of the likelihood
        big = np.max(np.abs(d))
        if big > 5.0:  # at most a factor e^5 per step on the log scale
            d *= 5.0 / big
        t, accepted = 1.0, False
        for _ in range(25):
            xn = x.copy()
            xn[free] = np.clip(x[free] + t * d, lower[free], upper[free])
            fn, gn = fg(xn)
            if np.isfinite(fn) and fn <= f + 1e-4 * float(np.dot(gf, xn[free] - x[free])):
                accepted = True
                break
            t *= 0.3
            if t * np.max(np.abs(d)) < 1e-12:  # no step left to take
                break
        if not accepted:
            if reuse:  # the reused Hessian misled: try again with a fresh one
                reuse = False
                continue
            break
        moved = np.max(np.abs(xn - x))
        reuse = t == 1.0 and np.max(np.abs(gn[free])) < 0.1 * np.max(np.abs(gf))
        x, f, g = xn, fn, gn
        if moved < 1e-11:
            break
    active = ((x <= lower + edge) & (g > 0)) | ((x >= upper - edge) & (g < 0))
    converged = bool(np.isfinite(f) and np.all(np.abs(g[~active]) < 1e-5 * max(1.0, abs(f))))
    return full(x), -f, converged


# --------------------------------------------------------------------------------------------
# nested random intercepts (rma.mv(yi, V, random = ~ 1 | a/b/c))


def same_group(codes: np.ndarray):
    """Pattern D = [same group] on stacks of row indices."""
    def pattern(idx):
        c = codes[idx]
        return (c[:, :, None] == c[:, None, :]).astype(float)
    return pattern


def level_engine(Vcov: BlockCovariance, codes: np.ndarray):
    """Engine and parametrisation (phi = log sigma2, outermost first) for nested intercepts.

    Levels are taken innermost first: a level whose groups lie inside the current blocks (or
    cross them) enters the blocks; the first level that contains whole blocks, and every level
    above it, is handled by Sherman-Morrison steps.
    """
    k, L = codes.shape
    block = Vcov.block_of
    inner: list[int] = []
    first_outer = 0
    for j in range(L - 1, -1, -1):
        if nested_in(block, codes[:, j]) and not nested_in(codes[:, j], block):
            first_outer = j + 1
            break
        if not nested_in(codes[:, j], block):
            block = join_blocks(k, [block, codes[:, j]])
        inner.append(j)
    else:
        first_outer = 0
    inner = sorted(inner)  # outermost first
    outer = list(range(first_outer))
    # a level equal to the blocks is inner (it costs nothing there)
    engine = BlockEngine(Vcov, [codes[:, j] for j in inner], [same_group(codes[:, j]) for j in inner],
                         codes[:, outer] if outer else None)
    perm = np.array(inner + outer, dtype=np.intp)  # linear coefficient c <- level perm[c]

    def to_linear(phi):
        s = np.exp(phi)
        J = np.zeros((L, L))
        J[np.arange(L), perm] = s[perm]
        return s[perm], J

    return engine, Parametrization(("log",) * L, to_linear, len(inner)), perm


# --------------------------------------------------------------------------------------------
# random = ~ outcome | study with a structured G (rma.mv struct = "UN", "CS", ...)

STRUCTS = ("UN", "CS", "HCS", "DIAG", "ID", "AR", "HAR")


def _pair_pattern(s, o, a, b):
    """[same study] [{o_i, o_j} = {a, b}] on stacks of row indices."""
    def pattern(idx):
        ss, oo = s[idx], o[idx]
        same = ss[:, :, None] == ss[:, None, :]
        oi, oj = oo[:, :, None], oo[:, None, :]
        hit = (oi == a) & (oj == b)
        if a != b:
            hit = hit | ((oi == b) & (oj == a))
        return (same & hit).astype(float)
    return pattern


def _pairs(q):
    """Lower-triangle (a, b), a > b, in column-major order as metafor's ``rho``."""
    return [(a, b) for b in range(q) for a in range(b + 1, q)]


def outcome_structure(struct: str, s: np.ndarray, o: np.ndarray, q: int):
    """Patterns and parametrisation of G for a structure.

    The linear coefficients are G's diagonal and its lower triangle (one pattern each); phi holds
    log variances then atanh correlations. Returns (patterns, Parametrization, unpack, n_tau2,
    n_rho) with unpack(phi) -> (tau2, rho, G).
    """
    pairs = _pairs(q)
    patterns = [_pair_pattern(s, o, a, a) for a in range(q)] + [_pair_pattern(s, o, a, b)
                                                                 for a, b in pairs]
    dist = np.abs(np.subtract.outer(np.arange(q), np.arange(q)))
    n_t = q if struct in ("UN", "HCS", "DIAG", "HAR") else 1
    n_r = {"UN": len(pairs), "CS": 1, "HCS": 1, "AR": 1, "HAR": 1}.get(struct, 0) if q > 1 else 0

    def G_and_grad(phi):
        tau2 = np.exp(phi[:n_t]) * np.ones(q) if n_t == 1 else np.exp(phi[:n_t])
        rho = np.tanh(phi[n_t:])
        sd = np.sqrt(tau2)
        R = np.eye(q)
        dR = []  # d R / d atanh(rho_c)
        if struct == "UN":
            for c, (a, b) in enumerate(pairs):
                R[a, b] = R[b, a] = rho[c]
                d = np.zeros((q, q))
                d[a, b] = d[b, a] = 1 - rho[c] ** 2
                dR.append(d)
        elif struct in ("CS", "HCS") and n_r:
            R = np.where(dist > 0, rho[0], 1.0)
            dR.append(np.where(dist > 0, 1 - rho[0] ** 2, 0.0))
        elif struct in ("AR", "HAR") and n_r:
            R = rho[0] ** dist
            dR.append(np.where(dist > 0, dist * rho[0] ** np.maximum(dist - 1, 0), 0.0)
                      * (1 - rho[0] ** 2))
        G = sd[:, None] * R * sd[None, :]
        grads = []
        if n_t == 1:  # d G / d log tau2 = G
            grads.append(G.copy())
        else:
            for a in range(q):
                e = np.zeros(q)
                e[a] = 0.5
                grads.append(G * (e[:, None] + e[None, :]))  # d (sd_a sd_b R_ab) / d log tau2_a
        grads += [sd[:, None] * d * sd[None, :] for d in dR]
        return tau2, rho, G, grads

    def unpack(phi):
        tau2, rho, G, _ = G_and_grad(phi)
        return (tau2[:n_t] if n_t > 1 else tau2[:1]), rho, G

    def layout(M):
        return np.concatenate([np.diag(M), [M[a, b] for a, b in pairs]])

    def to_linear(phi):
        _, _, G, grads = G_and_grad(phi)
        return layout(G), np.column_stack([layout(d) for d in grads])

    kind = ("log",) * n_t + ("atanh",) * n_r
    return patterns, Parametrization(kind, to_linear, len(patterns)), unpack, n_t, n_r


def cholesky_parametrization(q: int, n_patterns: int) -> tuple:
    """G = L L' with phi = (log L_aa, L_ab for a > b column by column): always positive
    definite, for finding the optimum of an unstructured G before polishing in (log tau2, atanh
    rho). Returns (Parametrization, to_standard) with to_standard(phi) -> (log tau2, atanh rho)."""
    pairs = _pairs(q)

    def L_of(phi):
        L = np.diag(np.exp(phi[:q]))
        for c, (a, b) in enumerate(pairs):
            L[a, b] = phi[q + c]
        return L

    def layout(M):
        return np.concatenate([np.diag(M), [M[a, b] for a, b in pairs]])

    def to_linear(phi):
        L = L_of(phi)
        cols = []
        for i in range(phi.size):
            dL = np.zeros((q, q))
            if i < q:
                dL[i, i] = L[i, i]
            else:
                a, b = pairs[i - q]
                dL[a, b] = 1.0
            cols.append(layout(dL @ L.T + L @ dL.T))
        return layout(L @ L.T), np.column_stack(cols)

    def to_standard(phi):
        G = L_of(phi) @ L_of(phi).T
        sd = np.sqrt(np.diag(G))
        R = G / np.outer(sd, sd)
        return np.concatenate([np.log(np.diag(G)),
                               np.arctanh(np.clip([R[a, b] for a, b in pairs], -1 + 1e-12,
                                                  1 - 1e-12))])

    kind = ("loghalf",) * q + ("free",) * len(pairs)
    return Parametrization(kind, to_linear, n_patterns), to_standard


# --------------------------------------------------------------------------------------------
# from a fitted result back to its engine (for profiles, fit statistics, BLUPs, refits)


def engine_of(result):
    """(engine, parametrisation, phi at the estimate) of a fitted multilevel or multivariate
    model (duck-typed: ``struct`` marks a multivariate model, ``codes`` a multilevel one)."""
    V = result.V if getattr(result, "V", None) is not None else BlockCovariance.diagonal(result.vi)
    if hasattr(result, "struct"):
        s, o = result.study_codes, result.outcome_codes
        patterns, par, _, _, _ = outcome_structure(result.struct, s, o, len(result.outcomes))
        return BlockEngine(V, [s], patterns, None), par, np.asarray(result.phi, dtype=float)
    engine, par, _ = level_engine(V, result.codes)
    with np.errstate(divide="ignore"):
        phi = np.log(np.asarray(result.sigma2, dtype=float))
    return engine, par, phi


def loglik_at(engine, par, phi, y, X, reml: bool) -> float:
    """(Restricted) log-likelihood at phi."""
    coef, _ = par.to_linear(phi)
    logdet_xx = float(np.linalg.slogdet(_cross(X, X))[1])
    return engine.loglik(coef[:par.n_inner], coef[par.n_inner:], y, X, reml, logdet_xx)[0]
