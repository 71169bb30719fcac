"""GRADE certainty of evidence per outcome, suggested from the meta-analysis itself (see sof.py for the table).

Each domain is *suggested* by a written rule applied to the analysis (the rule and the numbers go
into the rationale) and can be overridden by a reviewer, who must give a reason that is kept.

Notes
-----
Sources for the rules (the thresholds that are conventions rather than GRADE prescriptions are
arguments with the defaults named here, so a review protocol can state its own):

* Starting level: randomized trials start high, observational studies low (Balshem H, et al.
  GRADE guidelines 3. J Clin Epidemiol 2011;64:401-406). Observational studies assessed with
  ROBINS-I start high, since the tool already rates confounding and selection (Schünemann HJ, et
  al. GRADE guidelines 18. J Clin Epidemiol 2019;111:105-114).
* Risk of bias: judged from the studies that carry the weight (Guyatt GH, et al. GRADE
  guidelines 4. J Clin Epidemiol 2011;64:407-415): here, the share of the meta-analytic weight
  from studies at high risk of bias (RoB 2 "High"; ROBINS-I "Serious"/"Critical").
* Inconsistency: I^2 (Cochrane Handbook 6.4, section 10.10.2: 50-90% substantial, 75-100%
  considerable) together with the prediction interval against the decision threshold (Guyatt
  GH, et al. GRADE guidelines 7. J Clin Epidemiol 2011;64:1294-1302; IntHout J, et al. BMJ Open
  2016;6:e010247).
* Imprecision: the confidence interval against the decision threshold(s) and the optimal
  information size (Guyatt GH, et al. GRADE guidelines 6. J Clin Epidemiol 2011;64:1283-1293;
  Schünemann H, et al. GRADE Handbook 2013, "Imprecision").
* Publication bias: a small-study test only when k >= 10 (Sterne JAC, et al. BMJ
  2011;343:d4002; Guyatt GH, et al. GRADE guidelines 5. J Clin Epidemiol 2011;64:1277-1282),
  p < 0.10 taken as "strongly suspected" (Egger M, et al. BMJ 1997;315:629-634).
* Rating up: large effect RR 2 to 5 (or 0.5 to 0.2, both ends included: "at least a two-fold
  reduction or increase in risk") up one level, RR > 5 or < 0.2 up two; dose-response;
  plausible confounding that would reduce the effect; only when no domain is rated down
  (Guyatt GH, et al. GRADE guidelines 9. J Clin Epidemiol 2011;64:1311-1316, abstract and key
  points; at exactly 5 the key points' "RR = 2-5" (one level) is followed).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evidence_kit._core.validate import check_choice
from evidence_kit.bias import egger_test
from evidence_kit.certainty.rob import HIGH_RISK, SOME_CONCERNS, RobAssessment

LEVELS = {4: "high", 3: "moderate", 2: "low", 1: "very low"}
START_LEVELS = {name: value for value, name in LEVELS.items()}
#: An override whose reason starts with this marks a domain rated down because it cannot be
#: assessed (nothing to judge it on), not a reviewer's judgement; the reasons say so.
UNASSESSED_PREFIX = "not assessable:"
DOWNGRADE = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
UPGRADE = ("large_effect", "dose_response", "plausible_confounding")
DOMAINS = DOWNGRADE + UPGRADE
DOWN_RATINGS = {"not serious": 0, "serious": -1, "very serious": -2}
UP_RATINGS = {"none": 0, "upgrade one level": 1, "upgrade two levels": 2}
_DOWN_ALIASES = {"no": "not serious", "none": "not serious", "undetected": "not serious",
                 "strongly suspected": "serious", "-1": "serious", "-2": "very serious"}
_UP_ALIASES = {"no": "none", "+1": "upgrade one level", "+2": "upgrade two levels",
               "large": "upgrade one level", "very large": "upgrade two levels", "present": "upgrade one level"}
DOMAIN_TITLES = {"risk_of_bias": "Risk of bias", "inconsistency": "Inconsistency", "indirectness": "Indirectness",
                 "imprecision": "Imprecision", "publication_bias": "Publication bias",
                 "large_effect": "Large effect", "dose_response": "Dose-response gradient",
                 "plausible_confounding": "Plausible confounding"}


def _rating(domain: str, value: str) -> tuple[str, int]:
    if domain in DOWNGRADE:
        r = check_choice(f"{domain} rating", value, tuple(DOWN_RATINGS), aliases=_DOWN_ALIASES)
        return r, DOWN_RATINGS[r]
    r = check_choice(f"{domain} rating", value, tuple(UP_RATINGS), aliases=_UP_ALIASES)
    return r, UP_RATINGS[r]


def optimal_information_size(
    *,
    smd: float | None = None,
    control_risk: float | None = None,
    relative_risk_reduction: float | None = None,
    alpha: float = 0.05,
    power: float = 0.80,
) -> float:
    """Optimal information size (total participants, both arms) for GRADE imprecision.

    Give ``smd`` (continuous outcome: the smallest standardized difference worth detecting), or
    ``control_risk`` and ``relative_risk_reduction`` (dichotomous outcome).

    Notes
    -----
    The OIS is the sample size of a single adequately powered trial (GRADE guidelines 6, Guyatt
    et al. 2011, section 5), with two equal arms:

    * continuous: n per arm = 2 (z_{1-alpha/2} + z_{1-beta})^2 / delta^2 (delta in SD units);
    * dichotomous: n per arm = (z_{1-alpha/2} + z_{1-beta})^2 [p_C (1 - p_C) + p_I (1 - p_I)]
      / (p_C - p_I)^2 with p_I = p_C (1 - RRR).

    The result is not rounded (round up to whole participants for display).
    """
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError("alpha and power must lie strictly between 0 and 1")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    if smd is not None:
        if control_risk is not None or relative_risk_reduction is not None:
            raise ValueError("give either smd or control_risk with relative_risk_reduction, not both")
        if not smd or not math.isfinite(smd):
            raise ValueError("smd must be a finite non-zero difference")
        return 2 * 2 * z**2 / smd**2  # two arms x 2 (z_a + z_b)^2 / delta^2
    if control_risk is None or relative_risk_reduction is None:
        raise ValueError("optimal information size needs smd, or control_risk and relative_risk_reduction")
    pc = float(control_risk)
    pi = pc * (1 - float(relative_risk_reduction))
    if not (0 < pc < 1 and 0 < pi < 1) or pc == pi:
        raise ValueError("control_risk must be in (0, 1) and relative_risk_reduction must change it within (0, 1)")
    return 2 * z**2 * (pc * (1 - pc) + pi * (1 - pi)) / (pc - pi) ** 2  # two arms x n per arm


@dataclass(frozen=True)
class GradeResult:
    """GRADE certainty of one outcome.

    Attributes
    ----------
    outcome, design, start : str
        The outcome, the study design and the starting level it implies.
    level : str
        "high", "moderate", "low" or "very low".
    domains : DataFrame
        Indexed by domain; columns ``rating``, ``change`` (levels, negative = rated down),
        ``suggested_rating``, ``suggested_change``, ``rule``, ``rationale``, ``overridden``,
        ``override_reason``.
    k, n_total, estimate, ci_lower, ci_upper, measure, log_scale
        The analysis the rating describes (echoed for the Summary of Findings).
    """

    outcome: str | None
    design: str
    start: str
    level: str
    domains: pd.DataFrame
    k: int | None  # None: a published estimate that does not report its number of studies
    n_total: float | None
    estimate: float
    ci_lower: float
    ci_upper: float
    measure: str | None
    log_scale: bool

    @property
    def reasons(self) -> list[str]:
        """One sentence per domain that changed the level or was overridden."""
        out = []
        for dom, row in self.domains.iterrows():
            if not (row["change"] != 0 or row["overridden"]):
                continue
            head = f"{DOMAIN_TITLES[dom]}: {row['rating']} ({row['change']:+d})."
            reason = str(row["override_reason"] or "")
            if row["overridden"] and reason.startswith(UNASSESSED_PREFIX):
                # rated down because the domain cannot be assessed: say that, not a reviewer's override
                out.append(f"{head} Not assessable: {reason[len(UNASSESSED_PREFIX):].strip()}")
            elif row["overridden"]:
                out.append(f"{head} {row['rationale']} Overridden from '{row['suggested_rating']}' by reviewer: {reason}")
            else:
                out.append(f"{head} {row['rationale']}")
        return out

    def _repr_html_(self) -> str:
        head = html.escape(f"GRADE certainty{'' if self.outcome is None else f' for {self.outcome}'}: "
                           f"{self.level} (start {self.start}, {self.design})")
        cols = ["rating", "change", "rationale", "overridden", "override_reason"]
        return f"<p><b>{head}</b></p>" + self.domains[cols].to_html(escape=True, border=0)

    def __repr__(self) -> str:
        head = f"GRADE certainty{'' if self.outcome is None else f' for {self.outcome!r}'}: {self.level} " \
               f"(start {self.start}, {self.design})"
        return head + "\n" + "\n".join(f"- {r}" for r in self.reasons)


def _domain_row(rule: str, rating: str, change: int, rationale: str) -> dict:
    return {"suggested_rating": rating, "suggested_change": change, "rule": rule, "rationale": rationale}


def _risk_of_bias(result, rob, outcome, serious_share, very_serious_share):
    rule = (f"share of weight at high risk of bias >= {very_serious_share:.0%}: very serious; "
            f">= {serious_share:.0%} (or >= 50% at some concerns or worse): serious (GRADE guidelines 4)")
    if rob is None:
        raise ValueError("grade_certainty needs rob= (a RobAssessment of the pooled studies) to rate risk of bias; "
                         "to rate it by hand pass rob=None with overrides={'risk_of_bias': (rating, reason)}")
    if not isinstance(rob, RobAssessment):
        raise TypeError("rob must be a RobAssessment (see evidence_kit.rob_assessment)")
    slab = getattr(result, "slab", None)
    weights = getattr(result, "weights", None)
    if slab is None or weights is None:
        raise ValueError("the meta-analysis result needs slab (study labels) and weights to join the risk-of-bias "
                         "assessments; fit it with slab=")
    slab = [str(s) for s in np.asarray(slab, dtype=object)]
    w = np.asarray(weights, dtype=float)
    overall = rob.for_outcome(outcome).overall_by_study()
    overall.index = overall.index.map(str)
    missing = [s for s in slab if s not in overall.index]
    level_labels = getattr(result, "labels", None)  # a multilevel model: effects nested in groups
    if missing and isinstance(level_labels, pd.DataFrame):
        # risk of bias is judged per study: join on the first grouping level (outermost first)
        # whose every label has an assessment, and add up the weights of each study's effects
        for column in level_labels.columns:
            keys = [str(x) for x in level_labels[column]]
            if all(x in overall.index for x in keys):
                summed = pd.Series(w).groupby(keys, sort=False).sum()
                slab, w, missing = list(summed.index), summed.to_numpy(), []
                break
    if missing:
        raise ValueError(f"no risk-of-bias assessment for pooled studies: {', '.join(missing)}")
    judged = overall.reindex(slab).to_numpy()
    total = w.sum()
    high = float(w[np.isin(judged, list(HIGH_RISK[rob.tool]))].sum() / total)
    concern = float(w[np.isin(judged, list(HIGH_RISK[rob.tool] | SOME_CONCERNS[rob.tool]))].sum() / total)
    if high >= very_serious_share:
        rating = "very serious"
    elif high >= serious_share or concern >= 0.5:
        rating = "serious"
    else:
        rating = "not serious"
    n_high = int(np.isin(judged, list(HIGH_RISK[rob.tool])).sum())
    why = (f"{high:.1%} of the weight from {n_high} of {len(slab)} studies at high risk of bias; "
           f"{concern:.1%} at some concerns or worse ({rob.tool}).")
    return _domain_row(rule, rating, DOWN_RATINGS[rating], why)


_LOG_TOL = 1e-12  # boundary tolerance on the log-ratio scale (rounding of exp/log, not a convention)


def _risk_of_bias_counts(counts: Mapping, serious_share: float, very_serious_share: float) -> dict:
    """The risk-of-bias rule on counts of studies (a published review reports counts, not weights)."""
    def whole(key):
        v = counts.get(key)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if float(v) < 0 or float(v) != int(v):
            raise ValueError(f"rob_counts[{key!r}] must be a whole number >= 0; got {v!r}")
        return int(v)

    assessed, high, some = whole("assessed"), whole("high"), whole("some")
    if not assessed or high is None:
        raise ValueError("rob_counts needs 'assessed' (>= 1) and 'high' (studies at high risk of bias)")
    if high + (some or 0) > assessed:
        raise ValueError(f"rob_counts: high + some = {high + (some or 0)} exceeds assessed = {assessed}")
    share = high / assessed
    worse = None if some is None else (high + some) / assessed
    if share >= very_serious_share:
        rating = "very serious"
    elif share >= serious_share or (worse is not None and worse >= 0.5):
        rating = "serious"
    else:
        rating = "not serious"
    rule = (f"share of studies at high risk >= {very_serious_share:.0%}: very serious; >= {serious_share:.0%} "
            "(or >= 50% at the middle category or worse): serious (GRADE guidelines 4; unweighted: counts of "
            "studies, not weights)")
    tool = str(counts.get("tool") or "").strip() or "tool not named"
    where = str(counts.get("source") or "").strip()
    parts = [f"{high} of {assessed} studies ({share:.0%}) at high risk"]
    parts.append("middle category not reported" if worse is None else
                 f"{high + some} ({worse:.0%}) at the middle category or worse")
    if counts.get("scope") == "review":
        parts.append("counted over all the studies of the review, not only those pooled here")
    why = "; ".join(parts) + f" ({tool}{'; ' + where if where else ''})."
    return _domain_row(rule, rating, DOWN_RATINGS[rating], why)


def _crosses(lo: float, hi: float, thresholds: tuple[float, ...]) -> int:
    """How many decision thresholds lie strictly inside (lo, hi)."""
    return sum(lo < t < hi for t in thresholds)


def _k(result) -> int | None:
    """The number of studies pooled, or None when it is not reported (a published estimate)."""
    k = getattr(result, "k", None)
    return None if k is None or (isinstance(k, float) and math.isnan(k)) else int(k)


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.4g}"


def _inconsistency(result, thresholds, serious_i2, very_serious_i2):
    rule = (f"I^2 >= {very_serious_i2:g}% and the 95% prediction interval crosses a decision threshold: very serious; "
            f"I^2 >= {serious_i2:g}% and it crosses: serious (GRADE guidelines 7; Cochrane Handbook 10.10.2)")
    k = _k(result)
    if k is not None and k < 2:
        return _domain_row(rule, "not serious", 0, "single study: inconsistency cannot be assessed.")
    i2 = float(result.i2)
    pred = result.predict()
    row = pred.iloc[0] if isinstance(pred, pd.DataFrame) else pred
    pi_lo, pi_hi = float(row["pi_lower"]), float(row["pi_upper"])
    have_pi = math.isfinite(pi_lo) and math.isfinite(pi_hi)
    # without a prediction interval the rule falls back on I^2 alone (and says so)
    crosses = _crosses(pi_lo, pi_hi, thresholds) > 0 if have_pi else True
    if crosses and i2 >= very_serious_i2:
        rating = "very serious"
    elif crosses and i2 >= serious_i2:
        rating = "serious"
    else:
        rating = "not serious"
    if have_pi:
        why = (f"I^2 = {i2:.1f}%; 95% prediction interval {_fmt(pi_lo)} to {_fmt(pi_hi)} "
               f"{'crosses' if crosses else 'does not cross'} the threshold(s) {', '.join(map(_fmt, thresholds))}.")
    else:
        why = f"I^2 = {i2:.1f}%; no prediction interval available, so I^2 alone decides."
    return _domain_row(rule, rating, DOWN_RATINGS[rating], why)


def _imprecision(result, thresholds, n_total, ois):
    rule = ("95% CI includes both benefit and harm thresholds, or crosses a threshold with fewer participants than "
            "the OIS: very serious; crosses a threshold, or fewer participants than the OIS: serious "
            "(GRADE guidelines 6; GRADE Handbook, imprecision)")
    lo, hi = float(result.ci_lower), float(result.ci_upper)
    n_cross = _crosses(lo, hi, thresholds)
    spans_both = len(thresholds) == 2 and lo < min(thresholds) and hi > max(thresholds)
    ois_met = None if (ois is None or n_total is None) else bool(n_total >= ois)
    if spans_both or (n_cross and ois_met is False):
        rating = "very serious"
    elif n_cross or ois_met is False:
        rating = "serious"
    else:
        rating = "not serious"
    why = f"95% CI {_fmt(lo)} to {_fmt(hi)} {'crosses' if n_cross else 'does not cross'} " \
          f"the threshold(s) {', '.join(map(_fmt, thresholds))}"
    if spans_both:
        why += " and spans both"
    if ois is None:
        why += "; optimal information size not assessed (no OIS given)."
    elif n_total is None:
        why += f"; OIS = {math.ceil(ois)} not checked (n_total not given)."
    else:
        why += f"; {n_total:g} participants vs OIS = {math.ceil(ois)} ({'met' if ois_met else 'not met'})."
    return _domain_row(rule, rating, DOWN_RATINGS[rating], why)


def _publication_bias(result, small_study, alpha):
    rule = f"k >= 10 and small-study test p < {alpha:g}: serious (strongly suspected); k < 10: no test (Sterne 2011)"
    k = _k(result)
    if k is None:  # a published estimate whose number of studies is not reported
        return _domain_row(rule, "not serious", 0, "k not reported: no small-study test.")
    if k < 10:
        return _domain_row(rule, "not serious", 0,
                           f"k = {k} < 10: small-study tests have too little power (Sterne et al. 2011); not tested.")
    if small_study is None:
        small_study = egger_test(result)
    p = small_study["pvalue"] if isinstance(small_study, Mapping) else small_study.pvalue
    p = float(p)
    rating = "serious" if p < alpha else "not serious"
    return _domain_row(rule, rating, DOWN_RATINGS[rating], f"k = {k}; small-study test p = {p:.3g}.")


def _large_effect(result, log_scale):
    rule = "ratio measure: RR 2 to 5 or 0.5 to 0.2 up one level; > 5 or < 0.2 up two (GRADE guidelines 9)"
    if not log_scale:
        return _domain_row(rule, "none", 0, "not a ratio measure on the log scale: the large-effect rule does not apply.")
    log_ratio = abs(float(result.estimate))
    ratio = math.exp(float(result.estimate))
    # GRADE 9 key points: large RR = 2-5 or 0.5-0.2 (both ends included: "at least a two-fold
    # reduction or increase"), very large RR > 5 or < 0.2; compared on the log scale with a
    # tolerance so that exp(log(5)) = 4.999999999999999 or a printed 2.00 land on the boundary.
    if log_ratio > math.log(5) + _LOG_TOL:
        rating = "upgrade two levels"
    elif log_ratio >= math.log(2) - _LOG_TOL:
        rating = "upgrade one level"
    else:
        rating = "none"
    return _domain_row(rule, rating, UP_RATINGS[rating], f"pooled ratio {ratio:.3g}.")


def grade_certainty(
    result,
    *,
    indirectness: str,
    design: str = "RCT",
    rob: RobAssessment | None = None,
    rob_counts: Mapping | None = None,
    outcome: str | None = None,
    threshold: float | Sequence[float] = 0.0,
    n_total: float | None = None,
    ois: float | None = None,
    small_study=None,
    log_scale: bool = False,
    measure: str | None = None,
    dose_response: bool = False,
    plausible_confounding: bool = False,
    overrides: Mapping[str, object] | None = None,
    rob_serious_share: float = 0.25,
    rob_very_serious_share: float = 0.50,
    i2_serious: float = 50.0,
    i2_very_serious: float = 75.0,
    small_study_alpha: float = 0.10,
) -> GradeResult:
    """Suggest the GRADE certainty of one outcome from its meta-analysis.

    Parameters
    ----------
    result : MetaResult, MultilevelResult, or any object with k, estimate, ci_lower, ci_upper,
        i2, slab, weights (percent) and ``predict()`` returning pi_lower/pi_upper. For a
        multilevel model ``k`` counts effects, I^2 is the multilevel I^2 (all levels), the
        prediction interval adds every variance component, the small-study test is Egger's test
        in the multilevel model, and risk of bias is joined per study on the first grouping
        level whose labels all have an assessment (the weights of a study's effects summed).
    indirectness : {"not serious", "serious", "very serious"}
        The reviewer's judgement (population, intervention, comparator, outcome); required.
    design : {"RCT", "observational"}
        Study design of the pooled evidence.
    rob : RobAssessment
        Risk-of-bias assessments of the pooled studies (joined on ``result.slab``). Required
        unless ``overrides`` rates risk of bias by hand.
    rob_counts : mapping, optional
        Instead of ``rob``, counts of studies by risk of bias as a published review reports them:
        ``assessed``, ``high`` (required), ``some`` (the middle category, optional), and for the
        rationale ``tool``, ``source`` (where the counts stand) and ``scope`` ("outcome" or
        "review"). The share of studies replaces the share of weight in the rule.
    outcome : str, optional
        Use the risk-of-bias judgements for this outcome.
    threshold : float or (float, float)
        Decision threshold(s) on the scale of ``result.estimate`` (default the null, 0; use the
        log scale for ratios). Two values (harm, benefit) allow "very serious" imprecision
        when the CI spans both.
    n_total : float, optional
        Participants across the pooled studies (for the OIS check).
    ois : float, optional
        Optimal information size (see :func:`optimal_information_size`).
    small_study : object or mapping with ``pvalue``, optional
        Small-study test (e.g. ``ek.egger_test(result)``); computed when k >= 10 and omitted.
    log_scale : bool
        The estimate is a log ratio (log RR / log OR): enables the large-effect rule.
    measure : str, optional
        Name of the effect measure for display ("SMD", "RR", ...).
    dose_response, plausible_confounding : bool
        Reviewer's findings for rating up.
    overrides : dict, optional
        ``{domain: (rating, reason)}`` or ``{domain: {"rating": ..., "reason": ...}}``;
        the reason is required and kept.
    rob_serious_share, rob_very_serious_share, i2_serious, i2_very_serious, small_study_alpha
        The rule thresholds (see the module Notes).

    Returns
    -------
    GradeResult

    Notes
    -----
    Level = starting level (high = 4 for RCTs and ROBINS-I-assessed observational studies,
    low = 2 otherwise) + the sum of the domain changes, limited to [1, 4] (Balshem et al. 2011).
    The rules and their sources are listed in the module docstring; each domain's rationale
    gives the numbers it used.
    """
    design = check_choice("design", design, ("RCT", "observational"),
                          aliases={"NRS": "observational", "randomized": "RCT", "cohort": "observational"})
    overrides = dict(overrides or {})
    unknown = [d for d in overrides if d not in DOMAINS]
    if unknown:
        raise ValueError(f"unknown GRADE domains in overrides: {', '.join(map(str, unknown))}; "
                         f"expected one of {', '.join(DOMAINS)}")
    thresholds = tuple(float(t) for t in np.atleast_1d(np.asarray(threshold, dtype=float)))
    if not 1 <= len(thresholds) <= 2:
        raise ValueError("threshold must be one value or a (harm, benefit) pair")
    missing = [a for a in ("k", "estimate", "ci_lower", "ci_upper") if not hasattr(result, a)]
    missing += [a for a in ("estimate", "ci_lower", "ci_upper") if getattr(result, a, None) is None]
    if missing:
        raise ValueError(f"the meta-analysis result lacks {', '.join(missing)}")
    coefs = getattr(result, "coefficients", None)
    if coefs is not None and len(coefs) > 1:
        raise ValueError("grade_certainty rates one pooled estimate; this result has moderators "
                         f"({', '.join(map(str, coefs.index))}): fit the outcome without mods")

    rows: dict[str, dict] = {}
    if rob is not None and rob_counts is not None:
        raise ValueError("give rob (assessments of the pooled studies) or rob_counts (a review's counts), not both")
    if rob_counts is not None:
        rows["risk_of_bias"] = _risk_of_bias_counts(rob_counts, rob_serious_share, rob_very_serious_share)
    elif rob is None and "risk_of_bias" in overrides:
        rows["risk_of_bias"] = _domain_row("rated by hand (no assessments given)", "not serious", 0,
                                           "no risk-of-bias assessments given.")
    else:
        rows["risk_of_bias"] = _risk_of_bias(result, rob, outcome, rob_serious_share, rob_very_serious_share)
    rows["inconsistency"] = _inconsistency(result, thresholds, i2_serious, i2_very_serious)
    ind, ind_change = _rating("indirectness", indirectness)
    rows["indirectness"] = _domain_row("reviewer's judgement of PICO match", ind, ind_change,
                                       "judged by the reviewer (not computable from the analysis).")
    rows["imprecision"] = _imprecision(result, thresholds, n_total, ois)
    try:
        rows["publication_bias"] = _publication_bias(result, small_study, small_study_alpha)
    except (TypeError, ValueError):
        if "publication_bias" not in overrides:
            raise
        # rated by hand: no suggestion could be computed (no small-study test available)
        rows["publication_bias"] = _domain_row("rated by hand (no small-study test given)", "not serious", 0,
                                               "no small-study test given.")
    rows["large_effect"] = _large_effect(result, log_scale)
    rows["dose_response"] = _domain_row("reviewer's finding", "upgrade one level" if dose_response else "none",
                                        int(bool(dose_response)), "stated by the reviewer.")
    rows["plausible_confounding"] = _domain_row(
        "reviewer's finding", "upgrade one level" if plausible_confounding else "none",
        int(bool(plausible_confounding)), "stated by the reviewer.")

    table = pd.DataFrame.from_dict(rows, orient="index").loc[list(DOMAINS)]
    table["rating"] = table["suggested_rating"]
    table["change"] = table["suggested_change"].astype(int)
    table["overridden"] = False
    table["override_reason"] = None
    for dom, spec in overrides.items():
        if isinstance(spec, Mapping):
            value, reason = spec.get("rating"), spec.get("reason")
        elif isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) == 2:
            value, reason = spec
        else:
            raise ValueError(f"override for {dom!r} must be (rating, reason) or {{'rating': ..., 'reason': ...}}")
        if value is None:
            raise ValueError(f"override for {dom!r} has no rating")
        if reason is None or not str(reason).strip():
            raise ValueError(f"override for {dom!r} needs a reason (it is kept with the rating)")
        rating, change = _rating(dom, str(value))
        table.loc[dom, ["rating", "change", "overridden", "override_reason"]] = [rating, change, True, str(reason)]
    table["change"] = table["change"].astype(int)

    downgraded = bool((table.loc[list(DOWNGRADE), "change"] < 0).any())
    if downgraded:
        for dom in UPGRADE:
            if table.loc[dom, "change"] > 0 and not table.loc[dom, "overridden"]:
                table.loc[dom, "rationale"] += " Not applied: evidence is rated down in another domain (GRADE guidelines 9)."
                table.loc[dom, ["rating", "change"]] = ["none", 0]
    start = "high" if design == "RCT" or (rob is not None and rob.tool == "robins_i") else "low"
    level = final_level(start, table["change"])
    n_total = None if n_total is None else float(n_total)
    return GradeResult(outcome, design, start, level, table, _k(result), n_total, float(result.estimate),
                       float(result.ci_lower), float(result.ci_upper), measure, bool(log_scale))


def final_level(start: str, changes) -> str:
    """The certainty after rating: the start level (``"high"`` for randomised trials and for
    ROBINS-I, ``"low"`` otherwise) plus the domain changes, kept within very low..high (Balshem et
    al. 2011, J Clin Epidemiol 64:401, Table 2). The one place GRADE's level arithmetic lives."""
    return LEVELS[int(min(4, max(1, START_LEVELS[start] + int(np.sum(changes)))))]
