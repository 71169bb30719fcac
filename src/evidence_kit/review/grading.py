"""GRADE certainty of a principle's outcomes from the published estimates and the source reviews'
own appraisals, and what would change it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evidence_kit._core.validate import check_choice
from evidence_kit.certainty import grade_certainty
from evidence_kit.certainty.grade import (
    DOMAIN_TITLES,
    DOWNGRADE,
    UNASSESSED_PREFIX,
    UPGRADE,
    final_level,
)
from evidence_kit.review._common import _RATINGS, _check_principle, _rows_for
from evidence_kit.review.principle import _pi, published_syntheses


@dataclass(frozen=True)
class PublishedEstimate:
    """A published pooled estimate in the shape ``ek.grade_certainty`` reads (k, estimate, CI, I^2, PI)."""

    k: int | None
    estimate: float
    ci_lower: float
    ci_upper: float
    i2: float
    pi_lower: float = math.nan
    pi_upper: float = math.nan

    def predict(self) -> pd.DataFrame:
        return pd.DataFrame({"pred": [self.estimate], "pi_lower": [self.pi_lower], "pi_upper": [self.pi_upper]})


def _unassessed(rating: str, reason: str) -> tuple[str, str]:
    return rating, f"{UNASSESSED_PREFIX} {reason}"


def grade_study(result, *, indirectness: str, design: str = "RCT", outcome: str | None = None,
                measure: str | None = None, unassessed: str = "serious", **kwargs):
    """``ek.grade_certainty`` for a study-level fit with no risk-of-bias assessments in evidence/.

    Risk of bias is rated ``unassessed`` with that reason; everything else as grade_certainty
    suggests (Egger's test when k >= 10).
    """
    unassessed = check_choice("unassessed", unassessed, _RATINGS)
    overrides = {"risk_of_bias": _unassessed(unassessed, "no risk-of-bias assessments of these studies "
                                                         "are in evidence/.")}
    overrides.update(kwargs.pop("overrides", {}) or {})
    return grade_certainty(result, indirectness=indirectness, design=design, outcome=outcome, measure=measure,
                           overrides=overrides, **kwargs)


def rob_counts(appraisal) -> dict | None:
    """The ``rob_counts`` of ``ek.grade_certainty`` from a row of ``eb.appraisals``: assessed, high,
    some (None where not reported), tool, source (the locator) and scope; None when the review
    reports no count of studies assessed and at high risk."""
    def count(key):
        v = appraisal.get(key)
        return None if v is None or pd.isna(v) else int(v)

    assessed, high = count("studies_assessed"), count("studies_high")
    if not assessed or high is None:
        return None
    return {"assessed": assessed, "high": high, "some": count("studies_some"),
            "tool": appraisal.get("rob_tool") or "", "source": f"the review's own appraisal, {appraisal.get('locator')}",
            "scope": appraisal.get("scope")}


#: Ratio metrics: graded on the log scale (GRADE's large-effect rule applies to them).
RATIO_METRICS = ("OR", "RR", "HR", "IRR", "ROM")


def representatives(frame: pd.DataFrame, by=("question", "outcome_domain")) -> pd.DataFrame:
    """The estimate that represents each cell of ``frame`` (a :func:`published_syntheses` frame).

    Per ``by`` group: among the rows not flagged (``flag`` empty) that print a CI, the one with the
    largest k (an empty k counts as smallest); ties go to a row read in full text over one read
    from the abstract, then to the first id. Groups with no such row are left out.
    """
    ok = frame.loc[frame["ci_lower"].notna() & frame["ci_upper"].notna()]
    if "flag" in ok.columns:  # a flagged row (printed numbers contradict each other) is never graded
        ok = ok.loc[ok["flag"].fillna("").astype(str).eq("")]
    full = (ok["text_read"].fillna("").astype(str).eq("full text") if "text_read" in ok.columns
            else pd.Series(False, index=ok.index))
    ok = ok.assign(_k=ok["k"].fillna(-1.0), _full=~full)
    ok = ok.sort_values([*by, "_k", "_full", "id"], ascending=[True] * len(by) + [False, True, True], kind="stable")
    return ok.drop_duplicates(list(by)).drop(columns=["_k", "_full"])


def _on_grade_scale(row: dict) -> tuple[float, float, float, str | None, bool, np.ndarray]:
    """The estimate, CI limits, measure name, log-scale flag and PI limits GRADE reads for a row:
    the common metric where there is one, the log ratio for ratio metrics, else the metric as printed."""
    if isinstance(row.get("scale"), str) and row.get("scale") and not pd.isna(row.get("value")):
        frame = pd.DataFrame([row])
        pi = np.array([_pi(frame, "pi_lower")[0], _pi(frame, "pi_upper")[0]])
        return float(row["value"]), float(row["lower"]), float(row["upper"]), row["scale"], False, pi
    metric = str(row.get("metric"))
    vals = np.array([row["estimate"], row["ci_lower"], row["ci_upper"], row.get("pi_lower", np.nan),
                     row.get("pi_upper", np.nan)], dtype=float)
    if metric in RATIO_METRICS:
        return (*np.log(vals[:3]), f"log {metric}", True, np.log(vals[3:]))
    return (*vals[:3], metric, False, vals[3:])


def grade_row(row, *, appraisal: dict | None = None, indirectness: str = "not serious",
              unassessed: str = "serious", outcome: str | None = None):
    """GRADE certainty of one published pooled estimate (a row of :func:`published_syntheses`).

    The estimate is read on its common metric (SMD or r), as a log ratio for OR/RR/HR/IRR/ROM
    printed without one, else as printed (MD, beta, SMC: imprecision against 0). ``appraisal`` is
    the row's record of ``eb.appraisals`` (risk-of-bias counts, small-study test); see
    :func:`grade_published` for the rules.
    """
    row = row if isinstance(row, dict) else dict(row)
    unassessed = check_choice("unassessed", unassessed, _RATINGS)
    appraisal = appraisal or {}
    value, lower, upper, measure, log_scale, pi = _on_grade_scale(row)
    k = None if pd.isna(row.get("k")) else int(row["k"])
    i2 = row.get("i2")
    est = PublishedEstimate(k, float(value), float(lower), float(upper),
                            math.nan if i2 is None or pd.isna(i2) else float(i2), float(pi[0]), float(pi[1]))
    counts = rob_counts(appraisal) if appraisal else None
    overrides = {}
    if counts is None:
        overrides["risk_of_bias"] = _unassessed(unassessed, "no risk-of-bias assessments of the pooled studies "
                                                            "are in evidence/.")
    if math.isnan(est.i2) and (est.k is None or est.k > 1):
        overrides["inconsistency"] = _unassessed(unassessed, "I^2 not reported.")
    p = appraisal.get("small_study_p", math.nan)
    small_study = None
    if est.k is None:
        overrides["publication_bias"] = _unassessed(unassessed, "the number of studies pooled is not reported.")
    elif est.k >= 10:
        if p is not None and not pd.isna(p):
            small_study = {"pvalue": float(p)}
        else:
            overrides["publication_bias"] = _unassessed(unassessed, "no small-study test extracted.")
    design = "RCT" if str(row.get("design")) in ("RCT", "cluster RCT") else "observational"
    n = row.get("n")
    n_total = None if n is None or pd.isna(n) else float(n)
    name = outcome or f"{row['question']} {row['outcome_domain']} ({row['id']})"
    return grade_certainty(est, indirectness=indirectness, design=design, outcome=name, measure=measure,
                           log_scale=log_scale, n_total=n_total, overrides=overrides, small_study=small_study,
                           rob_counts=counts)


def grade_published(frame: pd.DataFrame, *, appraisals: pd.DataFrame | None = None,
                    indirectness: str = "not serious", unassessed: str = "serious") -> dict:
    """GRADE certainty of each outcome of a principle from its published pooled estimates.

    For each (question, outcome_domain) the estimate :func:`representatives` picks is rated: not
    flagged, with a CI, the largest k (ties: full text over abstract, then the first id); rows
    without a CI cannot be rated for imprecision and are skipped. Estimates on a common scale are
    rated there (SMD, r); ratio metrics without one (RR, HR, ...) on the log scale; others (MD,
    beta, SMC) as printed. Design: RCT when the row's design is RCT or cluster RCT, else
    observational (mixed designs start low).

    Risk of bias comes from the source review's own counts in ``appraisals`` (``eb.appraisals``,
    see :func:`rob_counts`; the share of studies at high risk) and is ``unassessed`` where the
    review reports none. Publication
    bias: k < 10 is not tested (as ``ek.grade_certainty``); for k >= 10 the review's reported
    small-study test p-value is used, and it is ``unassessed`` where none is reported.
    Inconsistency is ``unassessed`` when I^2 is not reported.

    Returns
    -------
    dict
        ``"<question> <outcome_domain> (<id>)"`` -> GradeResult, in question order.
    """
    unassessed = check_choice("unassessed", unassessed, _RATINGS)
    found = {} if appraisals is None else {r["synthesis_id"]: r for r in appraisals.to_dict("records")}
    out = {}
    for row in representatives(frame).to_dict("records"):
        g = grade_row(row, appraisal=found.get(row["id"]), indirectness=indirectness, unassessed=unassessed)
        out[g.outcome] = g
    return out


def review_grades(grades: dict, appraisals: pd.DataFrame) -> pd.DataFrame:
    """Our GRADE level next to the source review's own, for each rated outcome.

    Returns a DataFrame indexed by outcome: ``level`` (ours), ``review_grade`` (as the review
    reports it; empty when it reports none), ``agrees`` (True/False; NA without a review grade),
    ``locator``.
    """
    found = {r["synthesis_id"]: r for r in appraisals.to_dict("records")} if len(appraisals) else {}
    rows = {}
    for name, g in grades.items():
        rid = name.rsplit("(", 1)[1].rstrip(")")
        a = found.get(rid, {})
        theirs = str(a.get("review_grade") or "")
        rows[name] = {"level": g.level, "review_grade": theirs,
                      "agrees": pd.NA if not theirs else theirs == g.level,
                      "locator": str(a.get("locator") or "") if theirs else ""}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["level", "review_grade", "agrees", "locator"]
                                  ).rename_axis("outcome")


def _reported(a: dict) -> str:
    """One line of what a review reports: counts by risk of bias, its own GRADE, its small-study test."""
    parts = []
    if not pd.isna(a["studies_assessed"]):
        cats = [f"{int(a[c])} {w}" for c, w in (("studies_high", "high"), ("studies_some", "middle"),
                                                  ("studies_low", "low")) if not pd.isna(a[c])]
        tool = f" ({a['rob_tool']})" if a["rob_tool"] else ""
        parts.append(f"risk of bias{tool}: {' / '.join(cats) or 'no category counts'} of {int(a['studies_assessed'])}")
    elif a["rob_tool"]:
        parts.append(f"risk of bias ({a['rob_tool']}): in words only")
    if a["review_grade"]:
        parts.append(f"own GRADE: {a['review_grade']}")
    if a["small_study_test"]:
        p = "" if pd.isna(a["small_study_p"]) else f" p = {a['small_study_p']:g}"
        parts.append(f"{a['small_study_test']}{p or ' (no p printed)'}")
    return "; ".join(parts) or "in words only (see the notes in evidence/appraisals/)"


def appraisals_table(eb, principle: str) -> pd.DataFrame:
    """What the principle's source reviews report about their studies' risk of bias, their own GRADE
    level and their small-study tests: one row per synthesis row that has an appraisal, with the
    share of studies at high risk (``share_high``) computed from the counts and ``reported``, the
    same in one line."""
    principle = _check_principle(eb, principle)
    ids = set(_rows_for(eb, principle)["id"])
    a = eb.appraisals
    cols = ["synthesis_id", "scope", "rob_tool", "studies_assessed", "studies_high", "studies_some", "studies_low",
            "share_high", "review_grade", "small_study_test", "small_study_p", "reported", "locator"]
    if not len(a):
        return pd.DataFrame(columns=cols)
    sub = a.loc[a["synthesis_id"].isin(ids)].copy()
    sub["share_high"] = sub["studies_high"] / sub["studies_assessed"]
    sub["reported"] = [_reported(r) for r in sub.to_dict("records")]
    return sub[cols].sort_values("synthesis_id").reset_index(drop=True)


def certainty_table(eb) -> pd.DataFrame:
    """GRADE certainty of every rated published outcome, all principles: one row per
    (principle, question, outcome domain) that :func:`grade_published` rates.

    Columns: principle, question, outcome_domain, id (the rated synthesis row), scale, k,
    estimate, ci_lower, ci_upper (common metric) and certainty (GRADE level). A living review
    can join it on ``id`` to track certainty next to estimate and CI.
    """
    rows = []
    for principle in eb.principles["id"]:
        for grade in grade_published(published_syntheses(eb, principle), appraisals=eb.appraisals).values():
            question, domain = grade.outcome.split(" ")[:2]
            rows.append({"principle": principle, "question": question, "outcome_domain": domain,
                         "id": grade.outcome.rsplit("(", 1)[1].rstrip(")"), "scale": grade.measure, "k": grade.k,
                         "estimate": grade.estimate, "ci_lower": grade.ci_lower, "ci_upper": grade.ci_upper,
                         "certainty": grade.level})
    cols = ["principle", "question", "outcome_domain", "id", "scale", "k", "estimate", "ci_lower", "ci_upper",
            "certainty"]
    return pd.DataFrame(rows, columns=cols)


def evidence_map_table(eb) -> pd.DataFrame:
    """The evidence map, long form: one row per principle x outcome domain (all of them).

    Columns: ``principle``, ``outcome_domain``, ``sources`` (distinct citation keys,
    ``eb.evidence_map()``), ``rated`` (the id of the estimate GRADE rated for the cell: the one
    :func:`grade_published` picks, the largest k when the cell spans questions), ``scale``,
    ``estimate``, ``ci_lower``, ``ci_upper`` (common metric) and ``certainty`` (GRADE level);
    empty or NaN where no estimate with a CI exists.
    """
    counts = eb.evidence_map().stack().rename("sources").reset_index()
    best = certainty_table(eb).rename(columns={"id": "rated"})
    best = best.sort_values(["principle", "outcome_domain", "k", "rated"], ascending=[True, True, False, True],
                            kind="stable").drop_duplicates(["principle", "outcome_domain"])
    best = best.drop(columns=["question", "k"])
    out = counts.merge(best, on=["principle", "outcome_domain"], how="left")
    out[["rated", "scale", "certainty"]] = out[["rated", "scale", "certainty"]].fillna("")
    return out


def what_would_change(grades: dict) -> pd.DataFrame:
    """For each rated outcome: the domains rated down only because they could not be assessed,
    and the certainty if those assessments turned out "not serious".

    Parameters
    ----------
    grades : dict
        outcome -> GradeResult (from :func:`grade_published` or :func:`grade_study`).

    Returns
    -------
    DataFrame indexed by outcome: ``level``; ``unassessed`` (domains overridden with a reason
    starting "not assessable"); ``rated_down`` (the other domains that lower the level, judged on
    the evidence); ``level_if_assessed`` (start level plus the remaining changes, with rating-up
    domains applied as suggested when nothing else rates down, limited to very low..high).

    Notes
    -----
    Level arithmetic as ``ek.grade_certainty`` (Balshem et al. 2011; rating up only when no domain
    is rated down, GRADE guidelines 9). The upper bound is what assessing the missing domains can
    at most give; a serious finding would keep the level where it is or lower it.
    """
    rows = {}
    for name, g in grades.items():
        dom = g.domains
        unassessed = dom["overridden"].astype(bool) & dom["override_reason"].fillna("").astype(str).str.startswith(
            "not assessable")
        change = dom["change"].where(~unassessed, 0).astype(int)
        down = [d for d in DOWNGRADE if change[d] < 0]
        if not down:  # rating up applies again once nothing rates down (GRADE guidelines 9)
            for d in UPGRADE:
                if not dom.loc[d, "overridden"]:
                    change[d] = int(dom.loc[d, "suggested_change"])
        rows[name] = {"level": g.level,
                      "unassessed": ", ".join(DOMAIN_TITLES[d] for d in dom.index[unassessed]),
                      "rated_down": ", ".join(DOMAIN_TITLES[d] for d in down),
                      "level_if_assessed": final_level(g.start, change)}
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=["level", "unassessed", "rated_down", "level_if_assessed"]).rename_axis(
        "outcome")
