"""Multivariate meta-analysis: several outcomes per study with correlated sampling errors and
correlated random effects, as metafor's ``rma.mv(yi, V, mods = ~ outcome - 1,
random = ~ outcome | study, struct = "UN")``.

The model for effect i (outcome o(i) of study s(i)) is

    y_i = x_i' beta + u_{s(i), o(i)} + e_i,   u_s ~ N(0, G),   e_s ~ N(0, V_s)

with V the known sampling covariance (block diagonal by study, e.g. from :func:`vcalc`) and G a
q x q covariance of the study's true effects on the q outcomes (Berkey et al. 1998, Stat Med
17:2537; Jackson, Riley & White 2011, Stat Med 30:2481). Structures of G, as metafor's ``struct``:

- "UN": unstructured, tau2_a on the diagonal, rho_ab tau_a tau_b off it;
- "CS": compound symmetry, one tau2 and one rho;
- "HCS": heteroscedastic compound symmetry, tau2_a and one rho;
- "DIAG": tau2_a, independent outcomes; "ID": one tau2, independent outcomes;
- "AR": one tau2, correlation rho^|a - b| between levels a, b of an ordered inner factor (time);
  "HAR": the same with tau2_a per level.

Fitted by REML or ML with the block engine (``_blockmodel``): one dense block per study, so time
and memory are linear in the number of studies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit._core.format import df_label
from evidence_kit._core.results import FirstCoefficient, linear_prediction
from evidence_kit._core.validate import check_choice, check_rows, get_column, row_labels
from evidence_kit.synthesis._blockmodel import (
    STRUCTS,
    BlockEngine,
    cholesky_parametrization,
    maximize,
    outcome_structure,
)
from evidence_kit.synthesis._design import (
    full_rank_design,
    has_intercept,
    newmods_matrix,
)
from evidence_kit.synthesis.compare import fitstats
from evidence_kit.synthesis.multilevel import coefficient_table
from evidence_kit.synthesis.profile import profile as profile_ll
from evidence_kit.synthesis.profile import profile_ci
from evidence_kit.synthesis.residuals import ranef
from evidence_kit.synthesis.vcalc import BlockCovariance, as_block_covariance

__all__ = ["STRUCTS", "MultivariateResult", "multivariate_meta_analysis"]



# --------------------------------------------------------------------------------------------
# result


@dataclass(frozen=True)
class MultivariateResult(FirstCoefficient):
    """A fitted multivariate model (metafor ``rma.mv`` with ``random = ~ outcome | study``).

    ``tau2``: the variances of G (one per outcome for UN/HCS/DIAG, one for CS/ID), ``rho`` the
    correlations (lower triangle column by column for UN, one for CS/HCS), ``G`` the q x q
    matrix, ``outcomes`` the outcome labels in the order of G's rows (sorted).
    """

    k: int
    method: str
    test: str
    level: float
    struct: str
    outcomes: tuple
    coefficients: pd.DataFrame
    tau2: np.ndarray
    rho: np.ndarray
    G: np.ndarray
    n_studies: int
    q: float
    q_df: int
    q_pvalue: float
    qm: float | None
    qm_df: tuple | None
    qm_pvalue: float | None
    ll: float
    converged: bool
    yi: np.ndarray = field(repr=False)
    V: BlockCovariance = field(repr=False)
    X: np.ndarray = field(repr=False)
    term_names: tuple = field(repr=False)
    vb: np.ndarray = field(repr=False)
    design: tuple = field(repr=False)
    study_codes: np.ndarray = field(repr=False)
    outcome_codes: np.ndarray = field(repr=False)
    phi: np.ndarray = field(repr=False)
    study_labels: tuple = field(repr=False, default=())

    @property
    def p(self) -> int:
        return self.X.shape[1]

    @property
    def vi(self) -> np.ndarray:
        return self.V.diagonal_values()

    @property
    def n_parameters(self) -> int:
        """Coefficients plus variance-covariance parameters (as metafor's parms)."""
        return self.p + self.phi.size

    def variance_components(self) -> pd.DataFrame:
        """tau2 and sqrt(tau2) per outcome (one row for CS/ID)."""
        idx = list(self.outcomes) if self.tau2.size == len(self.outcomes) else ["all"]
        return pd.DataFrame({"tau2": self.tau2, "tau": np.sqrt(self.tau2)},
                            index=pd.Index(idx, name="outcome"))

    def predict(self, newmods=None, *, tau2_levels=None) -> pd.DataFrame:
        """Predicted values with confidence and prediction intervals (metafor ``predict.rma.mv``).

        ``newmods``: None (the fitted value of every effect; the estimate for an intercept-only
        model), an array of design rows, or a DataFrame coded as when fitting (formula ``mods``).
        ``tau2_levels``: outcome label per prediction row, selecting the tau^2 of the prediction
        interval (metafor ``tau2.levels``); needed when tau^2 differs by outcome, else the
        prediction bounds are NaN.

        Notes
        -----
        pred = x'b, se = sqrt(x'V_b x), PI = pred +- crit sqrt(se^2 + tau2_level).
        """
        if newmods is None:
            Xn = self.X[:1] if self.p == 1 else self.X
        else:
            Xn = newmods_matrix(self, newmods)
        pred, se, crit = linear_prediction(Xn, self.coefficients["estimate"].to_numpy(), self.vb, self.level,
                                           self.k - self.p if self.test == "t" else None)
        if self.tau2.size == 1:
            t2 = np.full(pred.shape, self.tau2[0])
        elif tau2_levels is None:
            t2 = np.full(pred.shape, np.nan)
        else:
            lv = np.atleast_1d(np.asarray(tau2_levels, dtype=object))
            look = {str(o): t for o, t in zip(self.outcomes, self.tau2, strict=True)}
            unknown = [v for v in lv if str(v) not in look]
            if unknown:
                raise ValueError(f"tau2_levels: unknown outcomes {unknown[:5]}; expected "
                                 f"{', '.join(map(str, self.outcomes))}")
            t2 = np.array([look[str(v)] for v in lv]) * np.ones(pred.shape)
        spi = np.sqrt(se**2 + t2)
        return pd.DataFrame({"pred": pred, "se": se, "ci_lower": pred - crit * se,
                             "ci_upper": pred + crit * se, "pi_lower": pred - crit * spi,
                             "pi_upper": pred + crit * spi})

    def summary(self) -> pd.DataFrame:
        return self.coefficients.copy()

    def __repr__(self) -> str:
        head = (f"Multivariate meta-analysis model (k = {self.k}; method: {self.method}; "
                f"struct: {self.struct}; {self.n_studies} studies)\n\n")
        vc = self.variance_components().to_string(float_format=lambda v: f"{v:.4f}")
        if self.rho.size:
            vc += "\nrho: " + ", ".join(f"{r:.4f}" for r in self.rho)
        het = f"\n\nTest for residual heterogeneity: QE({self.q_df}) = {self.q:.4f}, p = {self.q_pvalue:.4g}"
        mods = ""
        if self.qm is not None:
            mods = (f"\nTest of moderators: {df_label('F' if len(self.qm_df) == 2 else 'QM', self.qm_df)}"
                    f" = {self.qm:.4f}, p = {self.qm_pvalue:.4g}")
        return head + vc + het + mods + "\n\n" + self.coefficients.to_string(
            float_format=lambda v: f"{v:.4f}")

    def _repr_html_(self) -> str:
        rho = (f"<p>rho: {', '.join(f'{r:.4f}' for r in self.rho)}</p>" if self.rho.size else "")
        return (f"<p><b>Multivariate meta-analysis</b> (k = {self.k}; method: {self.method}; "
                f"struct: {self.struct})</p>"
                + self.variance_components().to_html(float_format=lambda v: f"{v:.4f}") + rho
                + f"<p>QE({self.q_df}) = {self.q:.4f}, p = {self.q_pvalue:.4g}</p>"
                + self.coefficients.to_html(float_format=lambda v: f"{v:.4f}"))

    # ----- profiles, fit statistics, random effects (profile.py, compare.py, residuals.py) ---
    def ranef(self, *, level: float | None = None) -> pd.DataFrame:
        """Predicted random effects per (outcome, study) pair (metafor ``ranef.rma.mv``)."""
        return ranef(self, level=level)

    def fitstats(self) -> pd.Series:
        """logLik, deviance, AIC, BIC, AICc (metafor ``fitstats``)."""
        return fitstats(self)

    def profile(self, component=0, *, values=None, xlim=None, steps: int = 20) -> pd.DataFrame:
        """Profile log-likelihood of one of tau2.1, ..., rho.1, ... (metafor ``profile``)."""
        return profile_ll(self, component, values=values, xlim=xlim, steps=steps)

    def confint(self, component=0, *, level: float | None = None) -> pd.DataFrame:
        """Profile-likelihood CI of one variance or correlation (metafor ``confint(res, tau2 =
        1)``, ``rho = 1``)."""
        return profile_ci(self, component, level=level)


def multivariate_meta_analysis(
    data: pd.DataFrame | None = None,
    yi="yi",
    V="vi",
    *,
    outcome="outcome",
    study="study",
    struct: str = "UN",
    mods=None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
) -> MultivariateResult:
    """Fit a multivariate random-effects model (metafor ``rma.mv(yi, V, random = ~ outcome | study,
    struct = ...)``).

    Parameters
    ----------
    data : DataFrame, optional
    yi : str or array-like
        Effect sizes.
    V : BlockCovariance, array, sparse matrix or str
        Sampling covariance matrix (e.g. from :func:`vcalc`); a column name or 1-d array gives
        independent sampling errors with those variances.
    outcome, study : str or array-like
        Outcome (inner factor) and study (outer grouping) of every effect.
    struct : {"UN", "CS", "HCS", "DIAG", "ID", "AR", "HAR"}
        Structure of the between-study covariance G of the outcomes.
    mods : formula string or list of str, optional
        Fixed effects; usually ``"~ outcome - 1"`` (one mean per outcome), or
        ``"~ outcome + outcome:x - 1"``. None: intercept only, as metafor's default.
    method : {"REML", "ML"}
    test : {"z", "t"}
    level : float
        Confidence level in percent.

    Returns
    -------
    MultivariateResult

    Notes
    -----
    Marginal covariance Var(y) = V + Z (I_studies (x) G) Z', with Z the outcome-by-study
    indicators; beta = (X'W X)^-1 X'W y with W its inverse; the (restricted) log-likelihood is
    metafor's (see :func:`multilevel_meta_analysis`) and is maximised over log tau2 and
    atanh rho. QE = e'V^-1 e from the GLS fit with W = V^-1 on k - p df.

    Examples
    --------
    >>> import evidence_kit as ek, numpy as np
    >>> dat = ek.load_dataset("dat.berkey1998")  # doctest: +SKIP
    """
    method = check_choice("method", method, ["REML", "ML"])
    test = check_choice("test", test, ["z", "t"])
    struct = check_choice("struct", struct, STRUCTS)
    y = get_column(data, yi, "yi")
    k = y.shape[0]
    labels = row_labels(data, k)
    if isinstance(V, str):
        V = get_column(data, V, "V", n=k)
    Vcov = as_block_covariance(V, k)
    check_rows(~np.isfinite(y), "yi", "effect sizes must be finite (drop missing rows first)", y,
               labels)
    v = Vcov.diagonal_values()
    check_rows(~(v > 0), "V", "sampling variances (diag V) must be positive", v, labels)
    out_lab = get_column(data, outcome, "outcome", n=k, dtype=object)
    st_lab = get_column(data, study, "study", n=k, dtype=object)
    check_rows(pd.isna(out_lab), "outcome", "missing outcome labels", out_lab, labels)
    check_rows(pd.isna(st_lab), "study", "missing study labels", st_lab, labels)
    o, outcomes = pd.factorize(pd.Series(out_lab), sort=True)
    s, studies = pd.factorize(pd.Series(st_lab.astype(str)), sort=True)
    q_out = len(outcomes)
    X, terms, coding = full_rank_design(data, mods, k, labels)
    p = X.shape[1]

    patterns, par, unpack, n_t, n_r = outcome_structure(struct, s, o, q_out)
    engine = BlockEngine(Vcov, [s], patterns, None)
    excess = max(np.var(y) - np.mean(v), 0.01 * np.var(y), 1e-6)
    start = np.concatenate([np.full(n_t, np.log(excess)), np.zeros(n_r)])
    lo = np.log(1e-12 * max(np.var(y), 1e-8))
    hi = np.log(1e4 * max(np.var(y), np.max(v)))
    reml = method == "REML"
    if struct == "UN" and q_out > 1:  # find the optimum where G stays positive definite
        chol, to_standard = cholesky_parametrization(q_out, par.n_inner)
        start_c = np.concatenate([np.full(q_out, np.log(excess) / 2), np.zeros(n_r)])
        phi_c, ll_c, conv_c = maximize(engine, chol, y, X, reml, start_c, lo, hi)
        start = to_standard(phi_c)
    phi, ll, converged = maximize(engine, par, y, X, reml, start, lo, hi)
    if struct == "UN" and q_out > 1 and (not converged or ll < ll_c):
        # the optimum is on the boundary of positive-definite G (a singular G), where the
        # (tau2, rho) score need not vanish: keep the Cholesky solution
        phi, ll, converged = start, ll_c, conv_c
    tau2, rho, G = unpack(phi)
    coef_lin, _ = par.to_linear(phi)
    beta, vb, _ = engine.gls(coef_lin, [], y, X)
    df = k - p
    coefs = coefficient_table(beta, np.sqrt(np.diag(vb)), terms, test, df, level)

    b_fe, _, rw = BlockEngine(Vcov, [], [], None).gls([], [], y, X)
    q = float((y - X @ b_fe) @ rw)
    btt = np.arange(1, p) if has_intercept(terms) else np.arange(p)
    qm = qm_df = qm_p = None
    if btt.size:
        m = btt.size
        qm = float(beta[btt] @ np.linalg.solve(vb[np.ix_(btt, btt)], beta[btt]))
        if test == "t":
            qm, qm_df = qm / m, (m, df)
            qm_p = float(stats.f.sf(qm, m, df))
        else:
            qm_df = (m,)
            qm_p = float(stats.chi2.sf(qm, m))
    return MultivariateResult(
        k=k, method=method, test=test, level=level, struct=struct,
        outcomes=tuple(outcomes.tolist()), coefficients=coefs, tau2=tau2, rho=rho, G=G,
        n_studies=int(s.max()) + 1, q=q, q_df=df, q_pvalue=float(stats.chi2.sf(q, df)),
        qm=qm, qm_df=qm_df, qm_pvalue=qm_p, ll=float(ll), converged=converged, yi=y, V=Vcov,
        X=X, term_names=tuple(terms), vb=vb, design=tuple(coding), study_codes=s,
        outcome_codes=o, phi=phi, study_labels=tuple(studies.tolist()))
