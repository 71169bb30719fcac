"""Helpers the review notebooks share: one principle's questions, sources, published syntheses on a
common metric with their umbrella credibility, GRADE certainty, and gaps.

Each notebook in ``notebooks/`` calls these so it stays short and every number it shows comes
from tested code reading ``evidence/``.

Notes
-----
Common metric. Intervention effects reported as d, g or SMD are read as standardized mean
differences as printed (g and d differ only by Hedges' small-sample factor, negligible at the
sizes pooled); odds ratios become d = ln(OR) sqrt(3) / pi (Chinn S. Stat Med 2000;19:3127-3131;
Borenstein et al. 2009, eq. 7.1). Correlations stay correlations (Fisher's z back-transformed
with r = tanh z): turning an association between two continuous measures into a d would imply a
dichotomy that the sources do not have, so r is kept on its own axis. Other metrics (beta, b, MD,
RR, HR, ...) are not converted and say so.

Certainty. GRADE (``ek.grade_certainty``) needs judgements that a published pooled estimate does
not carry by itself. ``evidence/appraisals/`` records what each source review reports about its
studies (counts by risk of bias, its small-study test, its own GRADE level): risk of bias is rated
from the share of studies at high risk (:func:`rob_counts`) and publication bias from the
reported small-study test. A domain that still cannot be assessed (no counts, no test, no I^2) is
rated down one level ("serious", the ``unassessed`` argument) with a reason naming what is missing,
as the umbrella criteria count a criterion that cannot be assessed as not met (Fusar-Poli & Radua
2018).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evidence_kit._validate import check_choice

SMD_METRICS = ("d", "g", "SMD", "OR")
R_METRICS = ("r", "z")
SCALES = ("SMD", "r")
_RATINGS = ("not serious", "serious", "very serious")


def _split(text) -> list[str]:
    return [part.strip() for part in str(text).split(";") if part.strip()]


def _check_principle(eb, principle: str) -> str:
    return check_choice("principle", principle, list(eb.principles["id"]))


def _rows_for(eb, principle: str) -> pd.DataFrame:
    syn = eb.syntheses
    hit = syn["principle"].map(lambda p: principle in _split(p))
    return syn.loc[hit.to_numpy(dtype=bool)]


def principle_text(eb, principle: str) -> str:
    """``"P4 Support for educators: Acknowledge that ..."``: the principle as principles.yaml has it."""
    principle = _check_principle(eb, principle)
    row = eb.principles.set_index("id").loc[principle]
    return f"{principle} {row['short']}: {row['text']}"


def questions_table(eb, principle: str) -> pd.DataFrame:
    """The principle's evidence questions as a PICO/PECO table (one row per question, by id)."""
    principle = _check_principle(eb, principle)
    q = eb.questions.loc[eb.questions["principle"] == principle]
    out = q[["id", "type", "population", "intervention_or_exposure", "comparator"]].copy()
    out["outcomes"] = q["outcomes"].map(", ".join)
    return out.set_index("id").rename_axis("question")


def sources_table(eb, principle: str) -> pd.DataFrame:
    """The sources behind a principle: every cited synthesis and mapped dataset, APA formatted.

    Returns
    -------
    DataFrame
        One row per citation key, sorted by the formatted reference: ``citation_key``, ``role``
        ("published synthesis" or "dataset <name>"), ``questions``, ``rows`` (synthesis rows) and
        ``reference`` (``ek.format_reference``, APA 7).
    """
    from evidence_kit.citations import format_reference

    principle = _check_principle(eb, principle)
    syn = _rows_for(eb, principle)
    parts = []
    if len(syn):
        g = syn.groupby("citation_key")
        parts.append(pd.DataFrame({
            "role": "published synthesis",
            "questions": g["question"].agg(lambda s: "; ".join(sorted({q for v in s for q in _split(v)}))),
            "rows": g.size(),
        }))
    st = eb.studies.loc[eb.studies["principles"].map(lambda ps: principle in ps)]
    if len(st):
        parts.append(pd.DataFrame({"role": "dataset " + st["dataset"], "questions": st["questions"].map("; ".join),
                                   "rows": 0}, ).set_axis(st["citation_key"]))
    if not parts:
        return pd.DataFrame(columns=["citation_key", "role", "questions", "rows", "reference"])
    out = pd.concat(parts).rename_axis("citation_key").reset_index()
    missing = sorted(set(out["citation_key"]) - set(eb.references))
    if missing:
        raise ValueError(f"citation keys without a reference in evidence/references: {', '.join(missing)}")
    out["reference"] = out["citation_key"].map(lambda key: format_reference(eb.references[key]))
    return out.sort_values(["reference", "role"], kind="stable").reset_index(drop=True)


def common_metric(syntheses: pd.DataFrame) -> pd.DataFrame:
    """Published estimates on a common metric: SMD for d, g, SMD and OR; r for r and Fisher's z.

    Adds ``scale`` ("SMD", "r" or None when not convertible), ``value``, ``lower``, ``upper`` and
    ``conversion`` (what was done, or why nothing was) to a copy of ``syntheses``.

    Notes
    -----
    OR: d = ln(OR) sqrt(3) / pi (Chinn 2000; Borenstein et al. 2009, eq. 7.1), applied to the
    estimate and both CI limits. z: r = tanh(z) (Fisher 1921), limits likewise.
    """
    from evidence_kit.conversions import log_or_to_d

    out = syntheses.copy()
    metric = out["metric"].astype(str)
    cols = ["estimate", "ci_lower", "ci_upper"]
    vals = out[cols].to_numpy(dtype=float)
    conv = np.full(vals.shape, np.nan)
    is_smd = metric.isin(["d", "g", "SMD"]).to_numpy()
    is_or = metric.eq("OR").to_numpy()
    is_z = metric.eq("z").to_numpy()
    is_r = metric.eq("r").to_numpy()
    conv[is_smd | is_r] = vals[is_smd | is_r]
    conv[is_or] = np.asarray(log_or_to_d(np.log(vals[is_or]))).reshape(-1, 3)  # Chinn 2000: d = ln OR sqrt(3)/pi
    conv[is_z] = np.tanh(vals[is_z])  # r = tanh(z)
    out["scale"] = np.where(is_smd | is_or, "SMD", np.where(is_r | is_z, "r", None))
    out["value"], out["lower"], out["upper"] = conv[:, 0], conv[:, 1], conv[:, 2]
    out["conversion"] = np.select(
        [metric.eq("SMD").to_numpy(), metric.isin(["d", "g"]).to_numpy(), is_or, is_z, is_r],
        ["as reported", metric.radd("read as SMD (").add(")").to_numpy(), "d = ln(OR) sqrt(3)/pi (Chinn 2000)",
         "r = tanh(z)", "as reported"],
        default=metric.radd("not converted: ").add(" has no common metric here").to_numpy())
    return out


def credibility(frame: pd.DataFrame) -> pd.DataFrame:
    """Umbrella credibility (``ek.umbrella_credibility``) of rows on a common metric.

    ``frame`` is the output of :func:`common_metric`. Rows with a CI on a common scale are
    classified; the others keep ``credibility`` empty and say why in ``not_assessable``.
    Returns ``frame`` with ``pvalue``, ``credibility``, ``not_assessable`` and ``criteria_not_met``.
    """
    from evidence_kit.certainty import umbrella_credibility

    out = frame.copy()
    out["pvalue"] = np.nan
    out["credibility"] = ""
    out["not_assessable"] = "no CI reported: the p value cannot be rebuilt"
    out.loc[out["scale"].isna(), "not_assessable"] = "no common metric"
    out["criteria_not_met"] = ""
    ok = (out["scale"].notna() & out["lower"].notna() & out["upper"].notna()).to_numpy()
    levels = out["ci_level"].fillna(95.0).to_numpy(dtype=float)  # README: CI level in percent, usually 95
    for level in np.unique(levels[ok]):  # one call per CI level (a handful at most)
        rows = ok & (levels == level)
        sub = out.loc[rows]
        u = umbrella_credibility(sub, estimate="value", ci_lower="lower", ci_upper="upper", k="k",
                                 measure=sub["scale"].to_numpy(), n_cases="n", i2="i2",
                                 pi_lower=_pi(sub, "pi_lower"), pi_upper=_pi(sub, "pi_upper"),
                                 level=float(level), label=sub["id"].to_numpy())
        out.loc[rows, "pvalue"] = u["pvalue"].to_numpy()
        out.loc[rows, "credibility"] = u["credibility"].to_numpy()
        out.loc[rows, "not_assessable"] = u["not_assessable"].map(", ".join).to_numpy()
        out.loc[rows, "criteria_not_met"] = u["criteria_not_met"].map(", ".join).to_numpy()
    return out


def _pi(sub: pd.DataFrame, col: str) -> np.ndarray:
    """Published prediction limits on the common scale (OR and z rows converted like the estimate)."""
    from evidence_kit.conversions import log_or_to_d

    v = sub[col].to_numpy(dtype=float).copy()
    m = sub["metric"].to_numpy()
    v[m == "OR"] = log_or_to_d(np.log(v[m == "OR"])) if (m == "OR").any() else v[m == "OR"]
    v[m == "z"] = np.tanh(v[m == "z"])
    return v


def published_syntheses(eb, principle: str) -> pd.DataFrame:
    """The principle's published pooled estimates on a common metric with umbrella credibility.

    One row per synthesis row (sorted by question, outcome domain, id): id, question,
    outcome_domain, outcome, metric, estimate, ci_lower, ci_upper, k, n, i2, design, scale, value,
    lower, upper, conversion, pvalue, credibility, not_assessable, criteria_not_met, locator.
    """
    principle = _check_principle(eb, principle)
    rows = _rows_for(eb, principle).copy()
    own = set(eb.questions.loc[eb.questions["principle"] == principle, "id"])
    # a row mapped to two principles lists only this principle's question(s) here
    rows["question"] = rows["question"].map(lambda q: ";".join(x for x in _split(q) if x in own))
    out = credibility(common_metric(rows))
    keep = ["id", "question", "outcome_domain", "outcome", "metric", "estimate", "ci_lower", "ci_upper", "ci_level",
            "k", "n", "i2", "pi_lower", "pi_upper", "design", "scale", "value", "lower", "upper", "conversion",
            "pvalue", "credibility", "not_assessable", "criteria_not_met", "citation_key", "locator"]
    return out[keep].sort_values(["question", "outcome_domain", "id"], kind="stable").reset_index(drop=True)


def published_forest(frame: pd.DataFrame, scale: str = "SMD", ax=None):
    """Forest plot of published estimates on one common scale, labelled "id: outcome [class]".

    Rows without a CI are drawn as open circles (point only). Returns the Axes; never calls
    ``plt.show()``.
    """
    import matplotlib.pyplot as plt

    scale = check_choice("scale", scale, SCALES)
    sub = frame.loc[frame["scale"] == scale]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.3 * len(sub) + 1.2))
    y = np.arange(len(sub))[::-1]
    ci = sub["lower"].notna().to_numpy()
    ax.hlines(y[ci], sub["lower"][ci], sub["upper"][ci], color="black", lw=1)
    ax.plot(sub["value"][ci], y[ci], "s", color="black", ms=4)
    ax.plot(sub["value"][~ci], y[~ci], "o", mfc="white", color="black", ms=4)
    cls = sub["credibility"].replace("", "no CI")
    outcome = sub["outcome"].astype(str).map(lambda o: o if len(o) <= 32 else o[:31] + "…")
    ax.set_yticks(y, [f"{i}: {o} [{c}]" for i, o, c in zip(sub["id"], outcome, cls)], fontsize=7)
    ax.axvline(0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("standardized mean difference" if scale == "SMD" else "correlation r")
    ax.set_ylim(-1, len(sub))
    return ax


@dataclass(frozen=True)
class PublishedEstimate:
    """A published pooled estimate in the shape ``ek.grade_certainty`` reads (k, estimate, CI, I^2, PI)."""

    k: int
    estimate: float
    ci_lower: float
    ci_upper: float
    i2: float
    pi_lower: float = math.nan
    pi_upper: float = math.nan

    def predict(self) -> pd.DataFrame:
        return pd.DataFrame({"pred": [self.estimate], "pi_lower": [self.pi_lower], "pi_upper": [self.pi_upper]})


def indirectness_from_note(note: str) -> str:
    """GRADE indirectness from the opening word of a studies.yaml ``directness`` note.

    "Direct ..." -> not serious; "Indirect ..." or "Moderately direct ..." -> serious;
    "Very indirect ..." -> very serious. Anything else raises: the note must say.
    """
    text = str(note).strip().lower()
    for start, rating in (("very indirect", "very serious"), ("moderately direct", "serious"),
                          ("indirect", "serious"), ("direct", "not serious")):
        if text.startswith(start):
            return rating
    raise ValueError(f"directness note does not start with Direct, Moderately direct, Indirect or Very indirect: "
                     f"{note[:60]!r}")


def _unassessed(rating: str, reason: str) -> tuple[str, str]:
    from evidence_kit.certainty.grade import UNASSESSED_PREFIX

    return rating, f"{UNASSESSED_PREFIX} {reason}"


def grade_study(result, *, indirectness: str, design: str = "RCT", outcome: str | None = None,
                measure: str | None = None, unassessed: str = "serious", **kwargs):
    """``ek.grade_certainty`` for a study-level fit with no risk-of-bias assessments in evidence/.

    Risk of bias is rated ``unassessed`` with that reason; everything else as grade_certainty
    suggests (Egger's test when k >= 10).
    """
    from evidence_kit.certainty import grade_certainty

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


def grade_published(frame: pd.DataFrame, *, appraisals: pd.DataFrame | None = None,
                    indirectness: str = "not serious", unassessed: str = "serious") -> dict:
    """GRADE certainty of each outcome of a principle from its published pooled estimates.

    For each (question, outcome_domain) the row on a common scale with a CI and the largest k is
    rated (ties: the first id); rows without a CI cannot be rated for imprecision and are skipped.
    Design: RCT when the row's design is RCT or cluster RCT, else observational (mixed designs
    start low).

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
    from evidence_kit.certainty import grade_certainty

    unassessed = check_choice("unassessed", unassessed, _RATINGS)
    found = {} if appraisals is None else {r["synthesis_id"]: r for r in appraisals.to_dict("records")}
    ok = frame.loc[frame["scale"].notna() & frame["lower"].notna()]
    ok = ok.sort_values(["question", "outcome_domain", "k", "id"], ascending=[True, True, False, True], kind="stable")
    best = ok.drop_duplicates(["question", "outcome_domain"])
    out = {}
    for row in best.itertuples(index=False):
        est = PublishedEstimate(int(row.k), float(row.value), float(row.lower), float(row.upper), float(row.i2),
                                *_pi(pd.DataFrame([row._asdict()]), "pi_lower"),
                                *_pi(pd.DataFrame([row._asdict()]), "pi_upper"))
        appraisal = found.get(row.id, {})
        counts = rob_counts(appraisal) if appraisal else None
        overrides = {}
        if counts is None:
            overrides["risk_of_bias"] = _unassessed(unassessed, "no risk-of-bias assessments of the pooled studies "
                                                                "are in evidence/.")
        if math.isnan(est.i2) and est.k > 1:
            overrides["inconsistency"] = _unassessed(unassessed, "I^2 not reported.")
        p = appraisal.get("small_study_p", math.nan)
        small_study = None
        if est.k >= 10:
            if p is not None and not pd.isna(p):
                small_study = {"pvalue": float(p)}
            else:
                overrides["publication_bias"] = _unassessed(unassessed, "no small-study test extracted.")
        design = "RCT" if str(row.design) in ("RCT", "cluster RCT") else "observational"
        n_total = None if pd.isna(row.n) else float(row.n)
        name = f"{row.question} {row.outcome_domain} ({row.id})"
        out[name] = grade_certainty(est, indirectness=indirectness, design=design, outcome=name, measure=row.scale,
                                    n_total=n_total, overrides=overrides, small_study=small_study,
                                    rob_counts=counts)
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


def gaps_table(eb, principle: str) -> pd.DataFrame:
    """What is missing for a principle: each question x outcome domain with its synthesis rows,
    sources, mapped datasets and stated gap, and ``gap`` True where no published synthesis stands."""
    principle = _check_principle(eb, principle)
    cov = eb.coverage(by="outcome")
    cov = cov.loc[cov["principle"] == principle].drop(columns="principle")
    st = eb.studies.explode("questions").explode("outcome_domain")
    ds = st.groupby(["questions", "outcome_domain"]).size() if len(st) else pd.Series(dtype=int)
    cov["datasets"] = ds.reindex(cov.index, fill_value=0).astype(int).to_numpy()
    cov["gap"] = cov["synthesis_rows"].eq(0)
    return cov


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


def compare_published(published: dict, computed: dict) -> pd.DataFrame:
    """Published values next to computed ones, with the difference and whether it is within rounding.

    Parameters
    ----------
    published : dict
        quantity -> (value as printed, decimals printed), e.g. ``{"tau^2": (0.3132, 4)}``.
    computed : dict
        quantity -> full-precision value computed here (same keys).

    Returns
    -------
    DataFrame indexed by quantity: published, decimals, computed, difference (computed -
    published) and ``within_rounding`` (|difference| <= half a unit in the last printed decimal,
    plus 1e-12 for floating-point representation).
    """
    missing = sorted(set(published) ^ set(computed))
    if missing:
        raise ValueError(f"published and computed name different quantities: {', '.join(map(str, missing))}")
    names = list(published)
    value = np.array([float(published[q][0]) for q in names])
    decimals = np.array([int(published[q][1]) for q in names])
    got = np.array([float(computed[q]) for q in names])
    diff = got - value
    return pd.DataFrame({"published": value, "decimals": decimals, "computed": got, "difference": diff,
                         "within_rounding": np.abs(diff) <= 0.5 * 10.0 ** -decimals + 1e-12},
                        index=pd.Index(names, name="quantity"))


_LEVELS = {4: "high", 3: "moderate", 2: "low", 1: "very low"}
_START = {"high": 4, "low": 2}


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
    from evidence_kit.certainty.grade import DOMAIN_TITLES, DOWNGRADE, UPGRADE

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
        level = int(min(4, max(1, _START[g.start] + change.sum())))
        rows[name] = {"level": g.level,
                      "unassessed": ", ".join(DOMAIN_TITLES[d] for d in dom.index[unassessed]),
                      "rated_down": ", ".join(DOMAIN_TITLES[d] for d in down),
                      "level_if_assessed": _LEVELS[level]}
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=["level", "unassessed", "rated_down", "level_if_assessed"]).rename_axis(
        "outcome")


def stated_gaps(eb, principle: str) -> pd.DataFrame:
    """The gaps ``evidence/gaps.yaml`` states for a principle: question, outcome_domain, searched
    and reason (a gap naming several principles is listed under each)."""
    principle = _check_principle(eb, principle)
    gaps = eb.gaps
    cols = ["question", "outcome_domain", "searched", "reason"]
    if not len(gaps):
        return pd.DataFrame(columns=cols)
    hit = gaps["principle"].map(lambda p: principle in _split(p)).to_numpy(dtype=bool)
    return gaps.loc[hit, cols].reset_index(drop=True)


# --- WWC study ratings and ESSA tiers from evidence/wwc/ ---------------------------------------

def wwc_baseline(eb) -> pd.DataFrame:
    """``eb.wwc_baseline`` with each characteristic's baseline effect size computed as the WWC does:
    Hedges' g from means and SDs (``ek.wwc_hedges_g``) or the Cox index from proportions
    (``ek.cox_index``), intervention minus comparison; ``category`` as ``wwc.baseline_equivalence``."""
    from evidence_kit.certainty.wwc import baseline_equivalence
    from evidence_kit.conversions import cox_index, wwc_hedges_g

    b = eb.wwc_baseline.copy()
    b["effect_size"] = np.nan
    cont, binary = b["kind"].eq("continuous"), b["kind"].eq("binary")
    if cont.any():
        c = b.loc[cont]
        b.loc[cont, "effect_size"] = np.atleast_1d(wwc_hedges_g(c["t_mean"], c["c_mean"], c["t_sd"], c["c_sd"],
                                                                c["t_n"], c["c_n"]))
    if binary.any():
        c = b.loc[binary]
        b.loc[binary, "effect_size"] = np.atleast_1d(cox_index(c["t_prop"], c["c_prop"], c["t_n"], c["c_n"]))
    b["category"] = baseline_equivalence(b["effect_size"]) if len(b) else pd.Series(dtype=object)
    return b


def _rating_key(text: str) -> str:
    """'without' / 'with' / 'does not meet' from a WWC rating in any of the WWC's wordings."""
    t = str(text).lower()
    return "does not meet" if "not meet" in t else "without" if "without" in t else "with" if "with " in t else ""


def _attrition(a_t, k_t, a_c, k_c):
    from evidence_kit.certainty.wwc import attrition_rates

    if any(pd.isna(v) for v in (a_t, k_t, a_c, k_c)):
        return math.nan, math.nan
    r = attrition_rates(a_t, k_t, a_c, k_c).iloc[0]
    return float(r["overall_attrition"]), float(r["differential_attrition"])


def wwc_ratings(eb, principle: str | None = None, *, boundary: str = "cautious") -> pd.DataFrame:
    """WWC rating of every finding in ``evidence/wwc/findings.csv`` (of one principle, if given).

    Attrition rates are computed from the recorded counts (clusters and individuals), baseline
    effect sizes from the recorded means/SDs or proportions (:func:`wwc_baseline`), and the rating
    by ``ek.wwc_rating`` under ``boundary``. A finding whose report lacks a fact the rating needs
    is ``"not rated"`` and ``reasons`` holds the error that names the missing fact: nothing is
    guessed. ``agrees`` compares our rating with the WWC's own published rating (NA where the
    WWC has not rated the study). ``improvement_index`` is ``ek.improvement_index`` of the
    reported standardized effect (the WWC computes it from Hedges' g; the row's notes say which
    effect size the report gives). Where the report prints no total, ``n`` is the sum of the
    arms' analytic samples and, for schools assigned as clusters, ``sites`` the schools analysed;
    ``derived`` says which.
    """
    from evidence_kit.certainty import improvement_index, wwc_rating

    f = eb.wwc_findings
    if principle is not None:
        principle = _check_principle(eb, principle)
        f = f.loc[f["principle"].map(lambda p: principle in _split(p))] if len(f) else f
    base = wwc_baseline(eb)
    rows = []
    for r in f.to_dict("records"):
        overall, diff = _attrition(r["t_assigned"], r["t_analyzed"], r["c_assigned"], r["c_analyzed"])
        c_overall, c_diff = _attrition(r["clusters_t_assigned"], r["clusters_t_analyzed"],
                                       r["clusters_c_assigned"], r["clusters_c_analyzed"])
        b = base.loc[base["finding_id"] == r["id"]]
        kwargs = {"overall_attrition": None if math.isnan(overall) else overall,
                  "differential_attrition": None if math.isnan(diff) else diff,
                  "boundary": boundary,
                  "compromised_randomization": bool(r["compromised_randomization"]),
                  "baseline_es": b["effect_size"].tolist() or None,
                  "baseline_adjusted": b["adjusted"].tolist() or None,
                  "baseline_names": b["characteristic"].tolist() or None}
        if r["assignment"] == "cluster":
            kwargs.update(assignment="cluster",
                          cluster_overall_attrition=None if math.isnan(c_overall) else c_overall,
                          cluster_differential_attrition=None if math.isnan(c_diff) else c_diff,
                          joiners=r["joiners"])
        if r["design"] == "QED":
            kwargs.pop("overall_attrition")
            kwargs.pop("differential_attrition")
        try:
            res = wwc_rating(r["design"], **kwargs)
            rating, attrition, reasons = res.rating, res.attrition or "", list(res.reasons)
        except (TypeError, ValueError) as exc:
            rating, attrition, reasons = "not rated", "", [f"not rated: {exc}"]
        published = r["wwc_rating_published"] or ""
        n, sites, derived = r["n"], r["sites"], []
        if pd.isna(n) and not (pd.isna(r["t_analyzed"]) or pd.isna(r["c_analyzed"])):
            n = r["t_analyzed"] + r["c_analyzed"]
            derived.append("n = t_analyzed + c_analyzed")
        if (pd.isna(sites) and r["unit"] == "schools"
                and not (pd.isna(r["clusters_t_analyzed"]) or pd.isna(r["clusters_c_analyzed"]))):
            sites = r["clusters_t_analyzed"] + r["clusters_c_analyzed"]
            derived.append("sites = schools analysed in both arms")
        rows.append({
            "id": r["id"], "intervention": r["intervention"], "outcome": r["outcome"],
            "outcome_domain": r["outcome_domain"], "design": r["design"], "assignment": r["assignment"],
            "cluster_overall_attrition": c_overall, "cluster_differential_attrition": c_diff,
            "overall_attrition": overall, "differential_attrition": diff, "attrition": attrition,
            "max_baseline_es": float(b["effect_size"].abs().max()) if len(b) else math.nan,
            "rating": rating, "wwc_rating_published": published,
            "wwc_standards_version": r["wwc_standards_version"],
            "agrees": pd.NA if not published or rating == "not rated" else _rating_key(rating) == _rating_key(published),
            "effect_size": r["effect_size"],
            "improvement_index": math.nan if pd.isna(r["effect_size"]) else float(improvement_index(r["effect_size"])),
            "effect": r["effect"], "significant": r["significant"],
            "n": n, "sites": sites, "derived": "; ".join(derived), "reasons": "; ".join(reasons),
            "citation_key": r["citation_key"], "locator": r["locator"],
        })
    cols = ["id", "intervention", "outcome", "outcome_domain", "design", "assignment", "cluster_overall_attrition",
            "cluster_differential_attrition", "overall_attrition", "differential_attrition", "attrition",
            "max_baseline_es", "rating", "wwc_rating_published", "wwc_standards_version", "agrees", "effect_size",
            "improvement_index",
            "effect", "significant",
            "n", "sites", "derived", "reasons", "citation_key", "locator"]
    return pd.DataFrame(rows, columns=cols)


#: The WWC standards version whose rules ``ek.wwc_rating`` implements (v4.1 rules, kept in v5.0).
WWC_VERSION = 5.0

_RATING_BY_KEY = {"without": "Meets WWC Standards Without Reservations",
                  "with": "Meets WWC Standards With Reservations",
                  "does not meet": "Does Not Meet WWC Standards"}


def essa_tiers(ratings: pd.DataFrame) -> pd.DataFrame:
    """ESSA evidence tier of each intervention from its rated findings (:func:`wwc_ratings`).

    Each finding enters with the rating computed here; where none could be computed (a fact
    missing from the report, or a cluster design, whose WWC rules this package does not implement)
    the WWC's own published rating of the study is used instead, and the reasons say so; it counts
    towards Tiers 1-2 only if made under WWC standards 2.1 or later (``wwc_standards_version``;
    see ``ek.essa_tier``), while a rating computed here follows the current rules. Findings
    with neither are left out, and the reasons say how many. A finding whose report gives no
    number of students or sites cannot show the Tier 1-2 sample (350 students in 2 or more sites)
    and counts as short of it, so it can support Tier 3 only; the reasons name it. Tier 4
    ("demonstrates a rationale") needs a reviewer's statement that evidence/ does not hold, so an
    intervention with no finding supporting Tiers 1-3 gets no tier, with that reason.

    Returns a DataFrame indexed by intervention: ``tier`` (1-4 or NA), ``label``, ``findings``
    (used / recorded), ``rating_source`` (computed, WWC or both) and ``reasons``.
    """
    from evidence_kit.certainty import essa_tier

    rows = {}
    for name, grp in ratings.groupby("intervention", sort=True):
        computed = grp["rating"] != "not rated"
        published = grp["wwc_rating_published"].map(_rating_key).map(_RATING_BY_KEY)
        use = grp.assign(rating_used=grp["rating"].where(computed, published),
                         rating_source=np.where(computed, "computed", np.where(published.notna(), "WWC", "")))
        use = use.loc[use["rating_used"].notna()]
        reasons = []
        if (use["rating_source"] == "WWC").any():
            ids = ", ".join(use.loc[use["rating_source"] == "WWC", "id"])
            reasons.append(f"the WWC's published rating used where ours could not be computed: {ids}")
        if len(use) < len(grp):
            reasons.append(f"{len(grp) - len(use)} finding(s) with no rating (facts missing, no WWC rating), left out")
        source = "/".join(sorted(set(use["rating_source"]))).replace("WWC/computed", "both")
        if not len(use):
            rows[name] = {"tier": pd.NA, "label": "No ESSA tier", "findings": f"0 / {len(grp)}", "rating_source": "",
                          "reasons": "; ".join(reasons + ["no rated finding"])}
            continue
        for fid, how in zip(use["id"], use["derived"]):
            if how:
                reasons.append(f"{fid}: {how}")
        unsized = use["n"].isna() | use["sites"].isna()
        if unsized.any():
            reasons.append(f"students or sites not reported for {', '.join(use.loc[unsized, 'id'])}: counted as "
                           "short of the Tier 1-2 sample (they can support Tier 3 only)")
        # a rating computed here follows the current WWC rules (WWC_VERSION); the WWC's own rating
        # carries the version of the standards it was made under (NaN where not recorded)
        version = np.where(use["rating_source"] == "computed", WWC_VERSION, use["wwc_standards_version"])
        studies = pd.DataFrame({"study": use["citation_key"], "design": use["design"],
                                "rating": use["rating_used"], "effect": use["effect"],
                                "significant": use["significant"].astype(bool), "n": use["n"].fillna(0),
                                "sites": use["sites"].fillna(0), "standards_version": version.astype(float),
                                "outcome": use["outcome"]})
        res = essa_tier(studies, rationale=False)
        reasons += [r.replace("no rationale was stated", "Tier 4 (a rationale) is not assessed in evidence/")
                    for r in res.reasons]
        rows[name] = {"tier": pd.NA if res.tier is None else res.tier, "label": res.label,
                      "findings": f"{len(use)} / {len(grp)}", "rating_source": source, "reasons": "; ".join(reasons)}
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=["tier", "label", "findings", "rating_source", "reasons"]
                                  ).rename_axis("intervention")


#: The columns of :func:`wwc_ratings` a notebook shows (the reasons are printed in full below it).
WWC_DISPLAY = ["id", "intervention", "outcome", "design", "assignment", "cluster_overall_attrition",
               "overall_attrition", "differential_attrition", "attrition", "max_baseline_es", "rating",
               "wwc_rating_published", "agrees", "improvement_index"]


def print_reasons(frame: pd.DataFrame, *, key: str = "id", column: str = "reasons", width: int = 100) -> None:
    """Print each row's reasons in full, wrapped (tables truncate long text)."""
    import textwrap

    for k, text in zip(frame[key], frame[column]):
        print(textwrap.fill(f"{k}: {text}", width, subsequent_indent="    "))
