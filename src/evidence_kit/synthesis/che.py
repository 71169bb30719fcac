"""The correlated-and-hierarchical-effects (CHE) working model with robust inference.

Pustejovsky & Tipton (2022, Prevention Science 23:425-438) recommend this recipe for
meta-analyses in which studies report several effect sizes with unknown correlations, the usual
case in education research:

1. assume a constant correlation rho between the sampling errors of effects from one study and
   build V with :func:`vcalc` (``obs`` = effect id);
2. fit a multilevel model with random effects for studies and for effects within studies
   (``rma.mv(yi, V, random = ~ 1 | study/esid)``), the working model that sets the weights;
3. report cluster-robust (CR2) standard errors, Satterthwaite degrees of freedom and HTZ tests
   clustered by study (``clubSandwich::coef_test(..., vcov = "CR2")``), which stay valid when
   rho or the random-effects structure is wrong;
4. show how much the estimates move when rho varies (a sensitivity analysis).

``che_model`` runs steps 1-3 and returns the robust result; ``che_sensitivity`` repeats them over
a grid of rho.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from evidence_kit._core.validate import get_column
from evidence_kit.synthesis.multilevel import multilevel_meta_analysis
from evidence_kit.synthesis.robust import RobustResult, robust
from evidence_kit.synthesis.vcalc import vcalc

__all__ = ["CheResult", "che_model", "che_sensitivity"]


@dataclass(frozen=True)
class CheResult(RobustResult):
    """Robust (CR2) inference for a CHE working model. ``model`` is the fitted
    ``MultilevelResult`` (with its ``V``); ``rho`` the assumed within-study correlation."""

    rho: float = 0.6

    def __repr__(self) -> str:
        m = self.model
        vc = ", ".join(f"{lev} {s:.4f}" for lev, s in zip(m.levels, m.sigma2, strict=True))
        return (f"Correlated and hierarchical effects model (rho = {self.rho:g}; sigma2: {vc})\n"
                + super().__repr__())

    def _repr_html_(self) -> str:
        return f"<p><b>CHE working model</b> (rho = {self.rho:g})</p>" + super()._repr_html_()


def che_model(
    data: pd.DataFrame,
    yi="yi",
    vi="vi",
    cluster="study",
    es_id=None,
    *,
    rho: float = 0.6,
    mods=None,
    levels=None,
    robust_cluster=None,
    method: str = "REML",
    small_sample: str = "CR2",
    level: float = 95,
) -> CheResult:
    """Fit the CHE working model and return cluster-robust inference (Pustejovsky & Tipton 2022).

    Parameters
    ----------
    data : DataFrame
    yi, vi : str or array-like
        Effect sizes and sampling variances.
    cluster : str
        Study (sample) identifier: effects of one study have correlated sampling errors.
    es_id : str, optional
        Effect identifier within studies (default: one per row).
    rho : float
        Assumed correlation between the sampling errors of effects of one study.
    mods : list of str or formula string, optional
        Moderators (as :func:`multilevel_meta_analysis`).
    levels : sequence of str, optional
        Random-effect levels, outermost first; default ``[cluster, es_id]``. Add levels above the
        study, e.g. ``["district", "study", "esid"]``.
    robust_cluster : str, optional
        Clustering of the sandwich estimator; default the outermost level.
    method : {"REML", "ML"}
    small_sample : {"CR2", "CR1", "CR0"}
    level : float
        Confidence level in percent.

    Returns
    -------
    CheResult
        Coefficients with robust SE, Satterthwaite df, p-values and CIs; ``.model`` is the fit.

    Notes
    -----
    V_j = rho sqrt(v) sqrt(v)' + (1 - rho) diag(v) within study j (``vcalc(vi, cluster, obs,
    rho)``); the working model is y = X b + u_j + w_ij + e_ij with u ~ N(0, tau^2),
    w ~ N(0, omega^2), e_j ~ N(0, V_j) (Pustejovsky & Tipton 2022, section "Working models");
    inference uses the CR2 sandwich, Satterthwaite df and the HTZ test (see :func:`robust`).

    Examples
    --------
    >>> import evidence_kit as ek
    >>> dat = ek.load_dataset("dat.assink2016")
    >>> res = ek.che_model(dat, cluster="study", es_id="esid", rho=0.6)
    >>> round(res.estimate, 4), round(res.se, 4)
    (0.3678, 0.097)
    """
    k = len(data)
    if es_id is None:
        es_col = "_es_id"
        data = data.assign(_es_id=np.arange(k))
    else:
        es_col = es_id
        get_column(data, es_col, "es_id", dtype=object)
    if not isinstance(cluster, str):
        raise TypeError("cluster: give the name of the study column")
    levels = [cluster, es_col] if levels is None else list(levels)
    V = vcalc(data, vi, cluster, obs=es_col, rho=rho)
    fit = multilevel_meta_analysis(data, yi=yi, levels=levels, mods=mods, method=method, V=V,
                                   level=level)
    rob = robust(fit, robust_cluster or levels[0], small_sample=small_sample)
    return CheResult(**{f.name: getattr(rob, f.name) for f in fields(rob)}, rho=float(rho))


def che_sensitivity(data: pd.DataFrame, yi="yi", vi="vi", cluster="study", es_id=None, *,
                    rhos=(0.0, 0.2, 0.4, 0.6, 0.8), **kwargs) -> pd.DataFrame:
    """Refit :func:`che_model` for each assumed rho and tabulate the robust results.

    Returns
    -------
    DataFrame indexed by (rho, term): estimate, se, df, pvalue, ci_lower, ci_upper and the
    variance components (one ``sigma2_<level>`` column per level).
    """
    rows = []
    for r in rhos:
        res = che_model(data, yi, vi, cluster, es_id, rho=r, **kwargs)
        coef = res.coefficients[["estimate", "se", "df", "pvalue", "ci_lower", "ci_upper"]]
        extra = {f"sigma2_{lev}": s for lev, s in zip(res.model.levels, res.model.sigma2,
                                                        strict=True)}
        rows.append(coef.assign(**extra, rho=float(r)).reset_index())
    out = pd.concat(rows, ignore_index=True)
    return out.set_index(["rho", "term"])
