"""Credibility classes for umbrella reviews of published meta-analyses.

Given what a published meta-analysis reports (pooled effect, CI, k, cases, I^2, tau^2 or a
prediction interval, small-study and excess-significance tests, the largest study's result),
rebuild the standard error and p value from the CI, optionally convert to a common metric, and
classify the credibility of the association (class I convincing, II highly suggestive, III
suggestive, IV weak, NS not significant), reporting which criteria could not be assessed.

Notes
-----
Criteria (Fusar-Poli P, Radua J. Ten simple rules for conducting umbrella reviews. Evid Based
Ment Health 2018;21:95-100, rule 6 "perform a stratification of the evidence", after Ioannidis
and colleagues):

* Class I (convincing): > 1000 cases, p < 1e-6, I^2 < 50%, 95% prediction interval excluding
  the null, no small-study effects, no excess significance bias;
* Class II (highly suggestive): > 1000 cases, p < 1e-6, largest study statistically
  significant (p < 0.05);
* Class III (suggestive): > 1000 cases, p < 1e-3;
* Class IV (weak): p < 0.05;
* NS: p >= 0.05.

"No small-study effects" and "no excess significance" mean the test's p > 0.05, as in
metaumbrella (Gosling CJ, Solanes A, Fusar-Poli P, Radua J. Evid Based Ment Health
2023; PMC10035783), the authors' own implementation of these criteria (``add.evidence(criteria =
"Ioannidis")``: ``egger p > 0.05``, ``esb p > 0.05``); several Ioannidis umbrella reviews use
p > 0.10 instead, available as ``bias_alpha=0.10``. A criterion that cannot be
assessed from what was reported counts as not met (the class is then a lower bound) and is
named in ``not_assessable``.

The case count is compared with 1000 for every measure, as metaumbrella does
(``.add.evidence_Ioannidis`` in R/functions_evidence.R tests its ``n_cases`` > 1000 whatever the
measure); for a continuous outcome pass the cases (e.g. the patient group), not all
participants. Published variants of the criteria, not implemented here (checked 2026-11-28):
"> 1000 cases (or > 20,000 participants for continuous outcomes)" (the criteria tables of
PMC10074550, Table 2, and of Janiaud P, et al. BMC Med 2021, doi:10.1186/s12916-021-02020-6,
Table 1); the largest study significant as a class I criterion too, with bias tests at
p > 0.10 (Janiaud et al. 2021, Table 1; use ``bias_alpha=0.10`` for the second). Reviews that
grade by the Fusar-Poli & Radua classes, such as Whelan E, et al. Cancers 2022;14:2708
(Table 1), require for class I exactly the six class I criteria listed above, without the
largest study. (The criteria table of Fusar-Poli & Radua 2018 itself could not be read on
2026-11-28; the list above is checked against metaumbrella's statement of it, add.evidence.Rd,
and its code.)

Rebuilding: SE = (upper - lower) / (2 z_{1-alpha/2}) on the analysis scale (log for ratios,
Fisher z for correlations; Cochrane Handbook 6.3.1-6.3.2, ``evidence_kit.se_from_ci``);
z = estimate / SE, two-sided normal p. When only tau^2 is reported the 95% prediction interval
is estimate +- t_{k-2} sqrt(tau^2 + SE^2) (Higgins JPT, Thompson SG, Spiegelhalter DJ. J R Stat
Soc A 2009;172:137-159, section on prediction intervals; Riley RD, et al. BMJ 2011;342:d549).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit._core.validate import check_choice, get_column, row_labels
from evidence_kit.effects.conversions import log_or_to_d, r_to_d, se_from_ci

RATIO = ("OR", "RR", "HR", "IRR")
LINEAR = ("SMD", "MD", "d", "g")
CORRELATION = ("r",)
MEASURES = RATIO + LINEAR + CORRELATION
CLASSES = ("I", "II", "III", "IV", "NS")
CRITERIA = ("cases_gt_1000", "p_lt_1e-6", "p_lt_1e-3", "p_lt_0.05", "i2_lt_50", "pi_excludes_null",
            "no_small_study_effects", "no_excess_significance", "largest_study_significant")
_CLASS_RULES = {
    "I": ("cases_gt_1000", "p_lt_1e-6", "i2_lt_50", "pi_excludes_null", "no_small_study_effects",
          "no_excess_significance"),
    "II": ("cases_gt_1000", "p_lt_1e-6", "largest_study_significant"),
    "III": ("cases_gt_1000", "p_lt_1e-3"),
    "IV": ("p_lt_0.05",),
}


def _optional(data, value, name, n):
    if value is None:
        return np.full(n, np.nan)
    return get_column(data, value, name, n=n)


def _bool_column(data, value, name, n):
    """1.0/0.0/NaN from booleans (or 0/1); None -> all NaN (not reported)."""
    if value is None:
        return np.full(n, np.nan)
    raw = pd.Series(get_column(data, value, name, n=n, dtype=object))
    missing = raw.isna().to_numpy()
    valid = raw.map(lambda v: isinstance(v, bool | np.bool_) or (isinstance(v, int | np.integer) and v in (0, 1)))
    bad = ~missing & ~valid.to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}: row {i} must be True/False (or missing); got {raw.iloc[i]!r}")
    out = np.full(n, np.nan)
    out[~missing] = raw[~missing].astype(bool).to_numpy(dtype=float)
    return out


def _criterion(values: np.ndarray, cond) -> np.ndarray:
    """1.0 where the criterion is met, 0.0 where not, NaN where the input is missing."""
    out = np.full(values.shape, np.nan)
    ok = ~np.isnan(values)
    out[ok] = cond(values[ok])
    return out


def _as_object(values: np.ndarray) -> np.ndarray:
    """True/False/None for display."""
    out = np.full(values.shape, None, dtype=object)
    ok = ~np.isnan(values)
    out[ok] = values[ok] == 1.0
    return out


def _name_sets(mask: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Per row, the tuple of names where ``mask`` is true (one tuple per distinct pattern)."""
    codes = mask.astype(np.int64) @ (1 << np.arange(mask.shape[1], dtype=np.int64))
    patterns, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    tuples = np.empty(patterns.size, dtype=object)
    tuples[:] = [tuple(names[mask[i]].tolist()) for i in first]
    return tuples[inverse.ravel()]


def _no_excess(by_p: np.ndarray, observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """No excess significance: met where observed <= expected (the one-sided test cannot reject),
    else as the test's p value says (NaN where neither is known)."""
    with np.errstate(invalid="ignore"):
        below = observed <= expected  # False where either is NaN
    return np.where(below, 1.0, by_p)


def umbrella_credibility(
    data: pd.DataFrame | None = None,
    *,
    estimate="estimate",
    ci_lower="ci_lower",
    ci_upper="ci_upper",
    k="k",
    measure="SMD",
    n_cases=None,
    i2=None,
    tau2=None,
    pi_lower=None,
    pi_upper=None,
    small_study_pvalue=None,
    excess_significance_pvalue=None,
    excess_observed=None,
    excess_expected=None,
    largest_study_significant=None,
    label=None,
    level: float = 95,
    to: str | None = None,
    bias_alpha: float = 0.05,
) -> pd.DataFrame:
    """Classify the credibility of published meta-analyses (Fusar-Poli & Radua 2018; Ioannidis).

    Parameters
    ----------
    data : DataFrame, optional
        One row per meta-analysis; every argument below takes a column name or an array.
    estimate, ci_lower, ci_upper
        Pooled effect and its CI as published (ratios on the ratio scale, r as r).
    k
        Number of studies.
    measure : str or column
        "OR", "RR", "HR", "IRR" (ratios), "SMD", "MD", "d", "g" (linear) or "r"; one for all
        rows or a column.
    n_cases
        Number of cases, compared with > 1000 for every measure (for a continuous outcome, the
        cases or patient group, as metaumbrella counts them; see Notes for the published
        "> 20,000 participants" variant, which is not implemented).
    i2
        I^2 in percent.
    tau2
        tau^2 on the analysis scale (log ratio, SMD, Fisher z); used for the prediction
        interval when none is published.
    pi_lower, pi_upper
        The published 95% prediction interval (same scale as ``estimate``).
    small_study_pvalue, excess_significance_pvalue
        p values of Egger's test and of the excess-significance test.
    excess_observed, excess_expected
        Observed and expected numbers of statistically significant studies (the
        excess-significance test of Ioannidis & Trikalinos 2007 asks whether observed > expected).
        Where observed <= expected there is no excess significance whatever the p value (umbrella
        tables print no p there, "NP" or "NA"); elsewhere ``excess_significance_pvalue`` decides.
    largest_study_significant
        Whether the largest study (most precise) was significant at p < 0.05 (True/False).
    label
        Labels of the meta-analyses (default the index of ``data``).
    level : float
        Confidence level of the published CIs, percent.
    bias_alpha : float
        Small-study and excess-significance tests pass when p > bias_alpha (default 0.05, as
        metaumbrella; 0.10 in some of Ioannidis's reviews).
    to : {"SMD"}, optional
        Also report the effect converted to SMD (OR via d = ln OR sqrt(3)/pi; r via
        d = 2r/sqrt(1 - r^2); from ``evidence_kit.effects.conversions``). RR/HR have no SMD conversion
        and give NaN with the reason in ``notes``.

    Returns
    -------
    DataFrame
        One row per meta-analysis: label, measure, k, yi and se (analysis scale), z, pvalue,
        pi_lower/pi_upper (analysis scale) and pi_source, one column per criterion (True,
        False, or None when not assessable), ``credibility`` (I, II, III, IV, NS),
        ``not_assessable`` and ``criteria_not_met`` (tuples of criterion names), optional SMD
        columns and ``notes``.

    Notes
    -----
    See the module docstring for the criteria and formulas.
    """
    est = get_column(data, estimate, "estimate")
    n = est.shape[0]
    lo = get_column(data, ci_lower, "ci_lower", n=n)
    hi = get_column(data, ci_upper, "ci_upper", n=n)
    kk = get_column(data, k, "k", n=n)
    labels = row_labels(data, n) if label is None else get_column(data, label, "label", n=n, dtype=object)
    if isinstance(measure, str) and (data is None or measure not in data.columns):
        meas = np.full(n, check_choice("measure", measure, MEASURES), dtype=object)
    else:
        given = pd.Series(get_column(data, measure, "measure", n=n, dtype=object)).astype(str)
        canonical = {m: check_choice("measure", m, MEASURES) for m in given.unique()}
        meas = given.map(canonical).to_numpy(dtype=object)
    for name, arr in (("estimate", est), ("ci_lower", lo), ("ci_upper", hi)):
        bad = np.isnan(arr)
        if bad.any():
            raise ValueError(f"{name} is missing for meta-analyses {list(labels[bad])}: it is needed for every row")
    bad = ~((lo <= est) & (est <= hi) & (lo < hi))
    if bad.any():
        raise ValueError(f"estimate outside its CI (or an empty CI) for meta-analyses {list(labels[bad])}")
    bad = ~np.isnan(kk) & ((kk < 1) | (kk != np.round(kk)))  # k may be unknown: then no PI from tau^2
    if bad.any():
        raise ValueError(f"k must be a positive whole number; meta-analyses {list(labels[bad])}")
    ratio = np.isin(meas, RATIO)
    corr = np.isin(meas, CORRELATION)
    bad = ratio & ((lo <= 0) | (est <= 0))
    if bad.any():
        raise ValueError(f"ratio measures need positive estimate and CI limits; meta-analyses {list(labels[bad])}")
    bad = corr & ((lo <= -1) | (hi >= 1))
    if bad.any():
        raise ValueError(f"correlations must lie in (-1, 1); meta-analyses {list(labels[bad])}")

    # the analysis scale: log for ratios, Fisher z for r, as published otherwise
    def to_scale(x):
        y = x.copy()
        y[ratio] = np.log(x[ratio])
        y[corr] = np.arctanh(x[corr])
        return y

    yi, ylo, yhi = to_scale(est), to_scale(lo), to_scale(hi)
    se = np.asarray(se_from_ci(ylo, yhi, level=level), dtype=float)  # Cochrane Handbook 6.3.1-6.3.2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = yi / se
    p = 2 * stats.norm.sf(np.abs(z))

    # prediction interval: published, else from tau^2 (Higgins et al. 2009: t with k - 2 df)
    plo_pub = _optional(data, pi_lower, "pi_lower", n)
    phi_pub = _optional(data, pi_upper, "pi_upper", n)
    t2 = _optional(data, tau2, "tau2", n)
    bad = t2 < 0
    if bad.any():
        raise ValueError(f"tau2 must be non-negative; meta-analyses {list(labels[bad])}")
    pub = ~np.isnan(plo_pub) & ~np.isnan(phi_pub)
    bad = pub & ratio & ((plo_pub <= 0) | (phi_pub <= 0))
    if bad.any():
        raise ValueError(f"ratio prediction intervals must be positive; meta-analyses {list(labels[bad])}")
    plo, phi = np.full(n, np.nan), np.full(n, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        plo[pub], phi[pub] = to_scale(plo_pub)[pub], to_scale(phi_pub)[pub]
        from_tau = ~pub & ~np.isnan(t2) & (kk >= 3)
        crit = stats.t.ppf(0.975, np.where(from_tau, kk - 2, 1))
        half = crit * np.sqrt(t2 + se**2)  # Higgins, Thompson & Spiegelhalter 2009; Riley et al. 2011
    plo[from_tau], phi[from_tau] = yi[from_tau] - half[from_tau], yi[from_tau] + half[from_tau]
    pi_source = np.where(pub, "published", np.where(from_tau, "tau2 (t, k-2 df)", None))

    crit_values = {
        "cases_gt_1000": _criterion(_optional(data, n_cases, "n_cases", n), lambda v: v > 1000),
        "p_lt_1e-6": _criterion(p, lambda v: v < 1e-6),
        "p_lt_1e-3": _criterion(p, lambda v: v < 1e-3),
        "p_lt_0.05": _criterion(p, lambda v: v < 0.05),
        "i2_lt_50": _criterion(_optional(data, i2, "i2", n), lambda v: v < 50),
        "pi_excludes_null": np.where(np.isnan(plo), np.nan, ((plo > 0) | (phi < 0)).astype(float)),
        "no_small_study_effects": _criterion(_optional(data, small_study_pvalue, "small_study_pvalue", n),
                                             lambda v: v > bias_alpha),
        "no_excess_significance": _no_excess(
            _criterion(_optional(data, excess_significance_pvalue, "excess_significance_pvalue", n),
                       lambda v: v > bias_alpha),
            _optional(data, excess_observed, "excess_observed", n), _optional(data, excess_expected, "excess_expected", n)),
        "largest_study_significant": _criterion(
            _bool_column(data, largest_study_significant, "largest_study_significant", n), lambda v: v == 1.0),
    }
    out = pd.DataFrame({"label": labels, "measure": meas, "k": pd.array(kk, dtype="Float64").astype("Int64"), "yi": yi, "se": se, "z": z,
                        "pvalue": p, "pi_lower": plo, "pi_upper": phi, "pi_source": pi_source})
    for name in CRITERIA:
        out[name] = _as_object(crit_values[name])

    # classes, vectorized: a criterion counts only where it is met (1.0); NaN is "not assessable"
    met = {c: crit_values[c] == 1.0 for c in CRITERIA}
    passes = {cls: np.logical_and.reduce([met[r] for r in rules]) for cls, rules in _CLASS_RULES.items()}
    out["credibility"] = np.select(
        [crit_values["p_lt_0.05"] == 0.0, passes["I"], passes["II"], passes["III"], passes["IV"]],
        ["NS", "I", "II", "III", "IV"], default="NS")
    relevant = np.array(list(dict.fromkeys(r for c in ("I", "II", "III") for r in _CLASS_RULES[c])))
    values = np.column_stack([crit_values[r] for r in relevant])
    out["not_assessable"] = _name_sets(np.isnan(values), relevant)
    out["criteria_not_met"] = _name_sets(values == 0.0, relevant)

    notes = [""] * n
    if to is not None:
        check_choice("to", to, ("SMD",))
        d, dlo, dhi = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        lin = np.isin(meas, ("SMD", "d", "g"))
        d[lin], dlo[lin], dhi[lin] = est[lin], lo[lin], hi[lin]
        is_or = meas == "OR"
        # d = ln OR sqrt(3) / pi (Borenstein et al. 2009, eq. 7.1)
        d[is_or], dlo[is_or], dhi[is_or] = (np.asarray(log_or_to_d(x[is_or]), dtype=float) for x in (yi, ylo, yhi))
        # d = 2 r / sqrt(1 - r^2) (Borenstein et al. 2009, eq. 7.8)
        d[corr], dlo[corr], dhi[corr] = (np.asarray(r_to_d(x[corr]), dtype=float) for x in (est, lo, hi))
        for i in np.flatnonzero(np.isnan(d)):
            notes[i] = f"no SMD conversion for {meas[i]}"
        out["smd"], out["smd_ci_lower"], out["smd_ci_upper"] = d, dlo, dhi
    out["notes"] = notes
    return out
