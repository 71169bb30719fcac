"""What the evidence says, in plain words: a bottom line per question and outcome domain, what is
not known, and the evidence and gap map.

Every number is computed from ``evidence/`` (the published estimate as printed, its GRADE rating by
:func:`grade_row`, the review's AMSTAR 2 confidence by ``ek.amstar2_table``); the words around
them follow fixed rules written down here.

Notes
-----
Wording. The statements follow the GRADE informative statements (Santesso N, et al. GRADE
guidelines 26. J Clin Epidemiol 2020;119:126-135, doi:10.1016/j.jclinepi.2019.10.014), whose
abstract gives, for high, moderate and low certainty, "x results in ...", "x likely results in
...", "x may result in ...". Here: high "improves", moderate "probably improves", low "may
improve", very low "the evidence is very uncertain about the effect of x on y"; an estimate whose
CI includes no effect "results in little to no difference" with the same modifiers; exposures use
"is associated with" in the same four forms. The statements do not grade size words ("slightly",
"large"): the size stands beside them as a number in a unit a reader knows.

Sizes. SMD (d, g, SMD): the improvement index, the expected change in percentile rank of an
average student (ek.improvement_index; WWC Procedures and Standards Handbook). OR, RR, HR, IRR:
the ratio in words ("21% lower risk", "3.7 times the odds"). r (and Fisher's z, back-transformed):
its size in words after Cohen's (1988) benchmarks, |r| about 0.1 small, 0.3 medium, 0.5 large.
Other metrics (MD, beta, SMC) are given as printed. Every size is oriented by the row's
``favourable`` column (which side is better for students or staff).
"""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pandas as pd

from evidence_kit.certainty import amstar2_table, improvement_index, summary_of_findings
from evidence_kit.certainty.grade import DOMAIN_TITLES, DOWNGRADE, UNASSESSED_PREFIX
from evidence_kit.review._common import (
    DOMAIN_ORDER,
    _check_principle,
    _split,
    domain_words,
    question_label,
    ref_url,
    short_cite,
)
from evidence_kit.review.grading import RATIO_METRICS, grade_row, representatives
from evidence_kit.review.principle import published_syntheses
from evidence_kit.review.reader import EMPTY, fmt_int, link

#: GRADE levels from best to worst (for "best certainty" of a cell).
LEVELS = ("high", "moderate", "low", "very low")

#: What the AMSTAR 2 column says for a review appraised from its abstract only: the items cannot be
#: answered from an abstract, so a "critically low" computed from them would describe the abstract.
NOT_APPRAISABLE = "not appraisable from the abstract"

_PLAIN_DOMAIN = {
    "risk_of_bias": "risk of bias", "inconsistency": "inconsistent results", "indirectness": "indirect evidence",
    "imprecision": "imprecision", "publication_bias": "possible publication bias",
}
_VERBS = {
    # (question type, direction) -> {level: phrase}; direction better / worse / none
    ("intervention", "better"): {"high": "improves", "moderate": "probably improves", "low": "may improve"},
    ("intervention", "worse"): {"high": "worsens", "moderate": "probably worsens", "low": "may worsen"},
    ("intervention", "none"): {"high": "results in little to no difference in",
                               "moderate": "probably results in little to no difference in",
                               "low": "may result in little to no difference in"},
    ("exposure", "better"): {"high": "is associated with better", "moderate": "is probably associated with better",
                             "low": "may be associated with better"},
    ("exposure", "worse"): {"high": "is associated with worse", "moderate": "is probably associated with worse",
                            "low": "may be associated with worse"},
    ("exposure", "none"): {"high": "shows little to no association with",
                           "moderate": "probably shows little to no association with",
                           "low": "may show little to no association with"},
}
_PLURAL_TO_SINGULAR = {"improves": "improve", "worsens": "worsen", "results": "result", "is": "are",
                       "shows": "show"}
_HEAD_STOPS = {"including", "delivered", "with", "for", "in", "of", "on", "to", "by", "targeting", "aimed",
               "promoting", "without", "among", "from", "at", "during", "pooled", "that", "which"}


def _plural(subject: str) -> bool:
    """Whether a subject noun phrase is plural ("programmes", "A and B"): its head, up to the first
    preposition or participle, has a conjunction or ends in a plural noun."""
    words = subject.lower().replace(",", " , ").split()
    head = []
    for w in words:
        if w in _HEAD_STOPS and head:
            break
        head.append(w)
    if "and" in head or "," in head:
        return True
    if head and head[0].endswith("ing") and len(head) > 1:  # a gerund ("training teachers") is singular
        return False
    last = head[-1].strip("'\u2019") if head else ""
    return last.endswith("s") and not last.endswith(("ss", "ness", "ics", "sis", "us", "ous"))


def _verb(phrase: str, plural: bool) -> str:
    if not plural:
        return phrase
    words = phrase.split()
    i = next((j for j, w in enumerate(words) if w not in ("probably", "may")), 0)
    if words[i - 1:i] == ["may"]:
        return phrase
    words[i] = _PLURAL_TO_SINGULAR.get(words[i], words[i])
    return " ".join(words)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _num(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}".replace("-", "\u2212")


def _person(domain: str) -> str:
    return "staff member" if domain == "staff_health_retention" else "student"


def amstar2_confidence(eb) -> pd.Series:
    """AMSTAR 2 overall confidence of each appraised review, by citation key: ``ek.amstar2_table``
    from the items, or :data:`NOT_APPRAISABLE` when the appraisal was made from the abstract only."""
    a = eb.amstar2
    if a is None or not len(a):
        return pd.Series(dtype=object, name="amstar2")
    rated = amstar2_table(a)["confidence"].to_numpy()
    abstract = a["text_read"].fillna("").astype(str).eq("abstract").to_numpy()
    return pd.Series(np.where(abstract, NOT_APPRAISABLE, rated), index=a["citation_key"].to_numpy(), name="amstar2")


def _direction(row: dict) -> str:
    """better / worse / none (CI includes no effect) / better? worse? (no CI: the point only)."""
    metric = str(row["metric"])
    null = 1.0 if metric in RATIO_METRICS else 0.0
    sign = -1.0 if str(row.get("favourable", "")).strip().lower() == "lower" else 1.0
    est, lo, hi = (float(row[c]) for c in ("estimate", "ci_lower", "ci_upper"))
    point = sign * (est - null)
    if math.isnan(lo) or math.isnan(hi):
        return "better?" if point > 0 else "worse?" if point < 0 else "none?"
    if lo <= null <= hi:
        return "none"
    return "better" if point > 0 else "worse"


def _r_words(r: float) -> str:
    a = abs(r)
    size = ("a very small" if a < 0.1 else "a small" if a < 0.3 else "a medium" if a < 0.5 else "a large")
    return f"{size} association"


def _size(row: dict) -> tuple[str, str]:
    """(size in plain words, the 95% CI in the same words)."""
    metric = str(row["metric"])
    sign = -1.0 if str(row.get("favourable", "")).strip().lower() == "lower" else 1.0
    est, lo, hi = (float(row[c]) for c in ("estimate", "ci_lower", "ci_upper"))
    has_ci = not (math.isnan(lo) or math.isnan(hi))
    person = _person(row["outcome_domain"])
    if metric in ("d", "g", "SMD"):
        ii = float(improvement_index(sign * est))
        way = "better" if ii > 0 else "worse"
        text = (f"about {abs(ii):.0f} percentile points {way} for the average {person} "
                f"(improvement index; {metric} {_num(est)})")
        ci = ""
        if has_ci:
            a, b = sorted((float(improvement_index(sign * lo)), float(improvement_index(sign * hi))))
            ci = f"{_num(a, 0)} to {_num(b, 0)} percentile points ({metric} {_num(lo)} to {_num(hi)})"
        return text, ci
    if metric in RATIO_METRICS:
        what = {"OR": "odds", "RR": "risk", "HR": "hazard", "IRR": "rate", "ROM": "mean"}[metric]
        text = (f"{round((1 - est) * 100):.0f}% lower {what}" if est < 1
                else f"{est:.2f} times the {what}" if est >= 2
                else f"{round((est - 1) * 100):.0f}% higher {what}")
        text += f" of {row['outcome']} ({metric} {_num(est)}; {'higher' if sign > 0 else 'lower'} is better)"
        ci = f"{metric} {_num(lo)} to {_num(hi)}" if has_ci else ""
        return text, ci
    if metric in ("r", "z"):
        r = math.tanh(est) if metric == "z" else est
        way = "better" if sign * r > 0 else "worse"
        text = f"{_r_words(r)} with {way} outcomes (r = {_num(r)}" + (", from Fisher's z" if metric == "z" else "") + ")"
        ci = ""
        if has_ci:
            a, b = (math.tanh(lo), math.tanh(hi)) if metric == "z" else (lo, hi)
            ci = f"r {_num(a)} to {_num(b)}"
        return text, ci
    return f"{metric} {_num(est)} (as printed; no plain-language scale for this metric)", (
        f"{metric} {_num(lo)} to {_num(hi)}" if has_ci else "")


def _reasons(g) -> tuple[str, str, str, str]:
    """(main reason, all reasons, rated down on the evidence, not assessable) from a GradeResult, in words."""
    dom = g.domains
    down = [d for d in DOWNGRADE if int(dom.loc[d, "change"]) < 0]
    unassessed = [d for d in down if bool(dom.loc[d, "overridden"])
                  and str(dom.loc[d, "override_reason"] or "").startswith(UNASSESSED_PREFIX)]
    judged = [d for d in down if d not in unassessed]
    parts = []
    if g.start == "low":
        parts.append("observational or mixed designs, which GRADE starts low")
    parts += [f"{_PLAIN_DOMAIN[d]} ({dom.loc[d, 'rating']})" for d in judged]
    parts += [f"{_PLAIN_DOMAIN[d]} not assessable from what the review reports" for d in unassessed]
    main = parts[0] if parts else ("no serious concern" if g.level == "high" else "")
    if len(parts) > 1:
        # the main reason: the domain that costs most; a design start counts as two levels
        costs = ([2] if g.start == "low" else []) + [-int(dom.loc[d, "change"]) for d in judged + unassessed]
        main = parts[int(np.argmax(costs))]
    return (main, "; ".join(parts), ", ".join(DOMAIN_TITLES[d] for d in judged),
            ", ".join(DOMAIN_TITLES[d] for d in unassessed))


def anchor_of(question: str, domain: str) -> str:
    """The HTML id of a question x outcome domain cell on its principle page: ``q3-1-academic-achievement``."""
    return f"{question}-{domain}".lower().replace(".", "-").replace("_", "-")


def _statement(qtype: str, direction: str, level: str, subject: str, domain: str) -> str:
    words = domain_words(domain)
    if level == "very low":
        return (f"The evidence is very uncertain about the effect of {subject} on {words}."
                if qtype == "intervention" else
                f"The evidence is very uncertain about the association between {subject} and {words}.")
    if level in LEVELS:
        phrase = _verb(_VERBS[(qtype, direction)][level], _plural(subject))
        return f"{_cap(subject)} {phrase} {words}."
    # not rated: no CI (or only flagged rows)
    if direction.endswith("?"):
        way = {"better?": "better", "worse?": "worse", "none?": "no difference in"}[direction]
        return (f"{_cap(subject)}: the review's estimate points to {way} {words}, but it is published without "
                "a confidence interval, so its certainty cannot be rated.")
    return f"{_cap(subject)}: no estimate for {words} can be weighed."


def _cell_rows(pub: pd.DataFrame) -> pd.DataFrame:
    """One row per (question, estimate): a row mapped to two questions of the principle counts in both."""
    rows = pub.assign(question=pub["question"].map(_split)).explode("question")
    return rows.loc[rows["question"].notna() & rows["question"].ne("")]


def bottom_lines(eb, principle: str | None = None) -> pd.DataFrame:
    """What the evidence says: one row per question x outcome domain with evidence.

    The estimate that represents a cell is the non-flagged row with a CI and the largest k (ties:
    full text over abstract, then id; :func:`representatives`); when no row has a CI, the
    non-flagged row with the largest k is described without a certainty. Its certainty is our
    GRADE (:func:`grade_row`, the rules of :func:`grade_published`) with the review's own GRADE
    beside it where the review reports one; the review's AMSTAR 2 confidence
    (:func:`amstar2_confidence`).

    Returns
    -------
    DataFrame
        principle, question, question_label, question_type, outcome_domain, anchor, id (the
        estimate shown), outcome, metric, estimate, ci_lower, ci_upper (as published), direction
        (better, worse, none: the CI includes no effect; with "?" when there is no CI), statement
        (the GRADE informative statement), size and size_ci (in plain words), studies and
        studies_unit (k as printed), participants, certainty (our GRADE, or "not rated"),
        reason (the main one), rated_down, not_assessable (GRADE domains), review_grade,
        amstar2, text_read, source (author year), link (DOI or URL), others (how many other
        estimates stand in the cell), other_sources (their author-year, "; "), n_rows,
        n_syntheses, summary (the whole bottom line as one plain paragraph) and statement_html
        (the same with links, ``id`` = anchor).
    """
    principles = list(eb.principles["id"]) if principle is None else [_check_principle(eb, principle)]
    appraisals = {r["synthesis_id"]: r for r in eb.appraisals.to_dict("records")} if len(eb.appraisals) else {}
    amstar = amstar2_confidence(eb)
    qinfo = eb.questions.set_index("id")
    refs = eb.references
    out = []
    for pid in principles:
        cells = _cell_rows(published_syntheses(eb, pid))
        best = representatives(cells).set_index(["question", "outcome_domain"])
        for (q, dom), grp in cells.groupby(["question", "outcome_domain"], sort=False):
            grp = grp.sort_values("id")
            if (q, dom) in best.index:
                row = best.loc[(q, dom)].to_dict()
                row.update(question=q, outcome_domain=dom)
            else:
                ok = grp.loc[grp["flag"].fillna("").eq("")]
                if not len(ok):
                    row = None
                else:
                    ok = ok.assign(_k=ok["k"].fillna(-1.0), _abs=ok["text_read"].ne("full text"))
                    row = ok.sort_values(["_k", "_abs", "id"], ascending=[False, True, True]).iloc[0].to_dict()
            qtype = str(qinfo.loc[q, "type"])
            if row is not None and str(row.get("design")) == "observational":
                qtype = "exposure"  # an observational estimate describes an association, whatever the question
            label = question_label(qinfo.loc[q, "intervention_or_exposure"])
            rec = {"principle": pid, "question": q, "question_label": label, "question_type": qtype,
                   "outcome_domain": dom, "anchor": anchor_of(q, dom), "n_rows": len(grp),
                   "n_syntheses": grp["citation_key"].nunique()}
            if row is None:
                rec.update(statement=f"{_cap(label)}: every estimate for {domain_words(dom)} is flagged "
                                     "(its printed numbers contradict each other), so none is weighed.",
                           certainty="not rated", reason="all estimates flagged", reasons="all estimates flagged",
                           direction="", others=len(grp) - 1)
                out.append(rec)
                continue
            direction = _direction(row)
            grade = None
            if not (pd.isna(row["ci_lower"]) or pd.isna(row["ci_upper"])):
                grade = grade_row(row, appraisal=appraisals.get(row["id"]))
            level = grade.level if grade is not None else "not rated"
            subject = question_label(row.get("exposure") or label) or label
            size, size_ci = _size(row)
            main, reasons, rated_down, unassessed = _reasons(grade) if grade is not None else (
                "no confidence interval published, so imprecision cannot be judged",
                "no confidence interval published, so imprecision cannot be judged", "", "")
            key = row["citation_key"]
            ref = refs.get(key)
            others = grp.loc[grp["id"] != row["id"]]
            other_keys = [k for k in dict.fromkeys(others["citation_key"]) if k != key]
            rec.update({
                "id": row["id"], "outcome": row["outcome"], "metric": row["metric"], "estimate": row["estimate"],
                "ci_lower": row["ci_lower"], "ci_upper": row["ci_upper"], "direction": direction,
                "statement": _statement(qtype, direction.rstrip("?") if grade is not None else direction, level,
                                        subject, dom),
                "size": size, "size_ci": size_ci,
                "studies": row["k"], "studies_unit": row.get("k_unit") or "",
                "participants": row["n"], "certainty": level, "reason": main, "reasons": reasons,
                "rated_down": rated_down,
                "not_assessable": unassessed,
                "review_grade": str(appraisals.get(row["id"], {}).get("review_grade") or ""),
                "amstar2": amstar.get(key, "not appraised"), "text_read": row.get("text_read") or "",
                "source": short_cite(ref) if ref is not None else key,
                "link": (ref_url(ref) if ref is not None else "") or str(row.get("source_url") or ""),
                "citation_key": key, "others": len(others),
                "other_sources": "; ".join(short_cite(refs[k]) if k in refs else k for k in other_keys),
                "other_links": " ".join((ref_url(refs[k]) if k in refs else "") for k in other_keys),
            })
            out.append(rec)
    cols = ["principle", "question", "question_label", "question_type", "outcome_domain", "anchor", "id", "outcome",
            "metric", "estimate", "ci_lower", "ci_upper", "direction", "statement", "size", "size_ci", "studies",
            "studies_unit", "participants", "certainty", "reason", "reasons", "rated_down", "not_assessable", "review_grade",
            "amstar2", "text_read", "source", "link", "citation_key", "others", "other_sources", "other_links",
            "n_rows", "n_syntheses"]
    frame = pd.DataFrame(out, columns=cols)
    for c in ("question_label", "id", "outcome", "metric", "direction", "statement", "size", "size_ci",
              "studies_unit", "reason", "reasons", "rated_down", "not_assessable", "review_grade", "amstar2", "text_read",
              "source", "link", "citation_key", "other_sources", "other_links"):
        frame[c] = frame[c].fillna("").astype(str)
    frame["others"] = frame["others"].fillna(0).astype(int)
    frame["studies"] = frame["studies"].astype("Int64") if len(frame) else frame["studies"]
    frame["participants"] = frame["participants"].astype("Int64") if len(frame) else frame["participants"]
    order = {d: i for i, d in enumerate(DOMAIN_ORDER)}
    frame = frame.sort_values(["principle", "question", "outcome_domain"], key=lambda s: s.map(order).fillna(-1)
                              if s.name == "outcome_domain" else s, kind="stable").reset_index(drop=True)
    frame["summary"] = [_summary(r) for r in frame.to_dict("records")]
    frame["statement_html"] = [_summary(r, as_html=True) for r in frame.to_dict("records")]
    return frame


def _studies_text(r: dict) -> str:
    k, unit = r.get("studies"), r.get("studies_unit") or "studies"
    n = r.get("participants")
    parts = []
    if k is not None and not pd.isna(k):
        parts.append(f"{fmt_int(k)} {unit if int(k) != 1 else unit.rstrip('s')}")
    if n is not None and not pd.isna(n):
        parts.append(f"{fmt_int(n)} participants")
    return ", ".join(parts) if parts else "number of studies not reported for this outcome"


def _summary(r: dict, as_html: bool = False) -> str:
    """The bottom line of one cell as a paragraph (plain text or HTML with links)."""
    esc = html.escape if as_html else (lambda s: s)
    if not r.get("id"):
        text = esc(r["statement"])
        return f'<p id="{r["anchor"]}">{text}</p>' if as_html else text
    head = f"<strong>{esc(r['statement'])}</strong>" if as_html else r["statement"]
    outcome = str(r["outcome"])
    if len(outcome) > 1 and outcome[0].isupper() and outcome[1].islower():
        outcome = outcome[0].lower() + outcome[1:]
    measured = f"Measured as {outcome}: {r['size']}"
    if r["size_ci"]:
        measured += f"; 95% CI {r['size_ci']}"
    measured += f" ({_studies_text(r)})."
    cert = ("Certainty: not rated" if r["certainty"] == "not rated" else f"Certainty: {r['certainty']}")
    if r["reasons"]:
        cert += f" ({r['reasons']})"
    if r["review_grade"]:
        cert += f"; the review's own GRADE: {r['review_grade']}"
    cert += f". Review quality (AMSTAR 2): {r['amstar2']}."
    src = esc(r["source"])
    if as_html and r["link"]:
        src = link(r["link"], r["source"])
    tail = f"Source: {src}"
    if r["text_read"] == "abstract":
        tail += " (abstract)"
    if r["others"]:
        tail += f"; {r['others']} other estimate{'s' if r['others'] != 1 else ''} in this cell"
        if r["other_sources"]:
            names = r["other_sources"].split("; ")
            urls = r["other_links"].split(" ") if r["other_links"] else [""] * len(names)
            shown = [link(u, n) if (as_html and u) else esc(n) for n, u in zip(names, urls)]
            tail += f" (also {', '.join(shown)})"
    tail += "."
    if not as_html:
        return f"{head} {measured} {cert} {tail}"
    return (f'<p id="{r["anchor"]}">{head} {esc(measured)} {esc(cert)} {tail}</p>')


def bottom_lines_html(lines: pd.DataFrame, *, by_question: bool = True) -> str:
    """The bottom lines as HTML paragraphs, under a heading per question (its label in words)."""
    parts, last = ['<div class="ek-bottom-lines">'], None
    for r in lines.to_dict("records"):
        if by_question and r["question"] != last:
            parts.append(f"<h3>{html.escape(r['question'])}: {html.escape(_cap(r['question_label']))}</h3>")
            last = r["question"]
        parts.append(r["statement_html"])
    parts.append("</div>")
    return "".join(parts)


class HTML:
    """Minimal HTML display object (``_repr_html_`` for Jupyter and the site, text for a terminal)."""

    def __init__(self, html_text: str, text: str):
        self.html, self.text = html_text, text

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def show_bottom_lines(lines: pd.DataFrame) -> HTML:
    """:func:`bottom_lines_html` wrapped for display; its text form is one paragraph per cell."""
    text = "\n\n".join(f"{r['question']} {r['outcome_domain']}: {r['summary']}" for r in lines.to_dict("records"))
    return HTML(bottom_lines_html(lines), text)


_RECORD_REF = re.compile(r"\s*\((?:[^()]*\b(?:records?|look-ups?|q\d+|pass)\b[^()]*)\)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[a-z0-9%)\]'\"])[.;:]\s+(?=[A-Z])")


def first_sentence(text: str) -> str:
    """The first sentence of a stated gap's reason, without its bookkeeping (record and look-up
    references in parentheses): what a reader needs; the rest stays in evidence/gaps.yaml."""
    clean = _RECORD_REF.sub("", " ".join(str(text).split()))
    head = clean
    for m in _SENTENCE_END.finditer(clean):  # the first end outside quotes and parentheses
        cand = clean[:m.start()]
        if cand.count('"') % 2 == 0 and cand.count("(") == cand.count(")"):
            head = cand
            break
    head = head.strip().rstrip(";:")
    return head if head.endswith(".") else head + "."


def gap_lines(eb, principle: str) -> pd.DataFrame:
    """What is not known for a principle, in plain words: one row per question x outcome domain
    that the question lists and no synthesis row covers, with the first sentence of the gap
    ``evidence/gaps.yaml`` states for it (what was searched stays in the file and the methods).

    Returns a DataFrame: principle, question, question_label, question_type, outcome_domain,
    anchor, stated (a gap is stated for the cell), reason (the stated gap's first sentence, or
    empty) and text (the line in words).
    """
    principle = _check_principle(eb, principle)
    qs = eb.questions.loc[eb.questions["principle"] == principle]
    pub = _cell_rows(published_syntheses(eb, principle))
    have = set(zip(pub["question"], pub["outcome_domain"]))
    gaps = eb.gaps
    stated = gaps.loc[gaps["principle"].map(lambda p: principle in _split(p)).to_numpy(dtype=bool)] if len(gaps) \
        else gaps
    rows = []
    for q in qs.to_dict("records"):
        label = question_label(q["intervention_or_exposure"])
        verb = "change" if q["type"] == "intervention" else "go with differences in"
        for dom in q["outcomes"]:
            if (q["id"], dom) in have:
                continue
            covered = stated.loc[(stated["question"].fillna("").isin(["", q["id"]]))
                                 & stated["outcome_domain"].fillna("").isin(["", dom])] if len(stated) else stated
            # the most specific stated gap: one naming the domain before one covering the whole question
            covered = covered.assign(_specific=covered["outcome_domain"].fillna("").eq("")).sort_values(
                "_specific", kind="stable") if len(covered) else covered
            reason = first_sentence(covered["reason"].iloc[0]) if len(covered) else ""
            text = f"Not known: whether {label} {verb} {domain_words(dom)}; no pooled estimate was found."
            rows.append({"principle": principle, "question": q["id"], "question_label": label,
                         "question_type": q["type"], "outcome_domain": dom, "anchor": anchor_of(q["id"], dom),
                         "stated": bool(len(covered)), "reason": reason, "text": f"{text} {reason}".strip()})
    return pd.DataFrame(rows, columns=["principle", "question", "question_label", "question_type", "outcome_domain",
                                       "anchor", "stated", "reason", "text"])


def show_gap_lines(gaps: pd.DataFrame) -> HTML:
    """:func:`gap_lines` as a list, one item per question (its empty domains joined, each cell's
    anchor kept for the evidence and gap map); text form one line per item."""
    if not len(gaps):
        msg = "No gap: every question and outcome domain of this principle has a pooled estimate."
        return HTML(f"<p>{msg}</p>", msg)
    items, lines = [], []
    for (q, reason), grp in gaps.groupby(["question", "reason"], sort=False):
        r = grp.iloc[0]
        doms = [domain_words(d) for d in grp["outcome_domain"]]
        joined = doms[0] if len(doms) == 1 else ", ".join(doms[:-1]) + " or " + doms[-1]
        verb = "change" if r["question_type"] == "intervention" else "go with differences in"
        text = f"{q}: not known whether {r['question_label']} {verb} {joined}; no pooled estimate was found."
        text = f"{text} {reason}".strip()
        anchors = "".join(f'<span id="{html.escape(a)}"></span>' for a in grp["anchor"])
        items.append(f"<li>{anchors}{html.escape(text)}</li>")
        lines.append(f"- {text}")
    return HTML(f'<ul class="ek-gaps">{"".join(items)}</ul>', "\n".join(lines))


def evidence_gap_map(eb) -> pd.DataFrame:
    """The evidence and gap map: one row per question x outcome domain (the domains each question
    lists in principles.yaml, and any other domain a synthesis row gives it), in question order.

    Columns: ``principle, question, question_label, outcome_domain, n_syntheses`` (distinct
    reviews), ``n_rows`` (estimates), ``certainty`` (the bottom line's GRADE level; "not rated"
    when no estimate has a CI; empty when the cell is empty) and ``anchor`` (the id of the cell's
    bottom line or gap line on its principle page).
    """
    lines = bottom_lines(eb).set_index(["question", "outcome_domain"])
    rows = []
    order = {d: i for i, d in enumerate(DOMAIN_ORDER)}
    for q in eb.questions.to_dict("records"):
        listed = list(q["outcomes"])
        extra = [d for (qq, d) in lines.index if qq == q["id"] and d not in listed]
        for dom in sorted(dict.fromkeys(listed + extra), key=lambda d: order.get(d, len(order))):
            hit = (q["id"], dom) in lines.index
            r = lines.loc[(q["id"], dom)] if hit else None
            rows.append({"principle": q["principle"], "question": q["id"],
                         "question_label": question_label(q["intervention_or_exposure"]), "outcome_domain": dom,
                         "n_syntheses": int(r["n_syntheses"]) if hit else 0, "n_rows": int(r["n_rows"]) if hit else 0,
                         "certainty": str(r["certainty"]) if hit else "", "anchor": anchor_of(q["id"], dom)})
    return pd.DataFrame(rows, columns=["principle", "question", "question_label", "outcome_domain", "n_syntheses",
                                       "n_rows", "certainty", "anchor"])


def reading_note(eb, principle: str | None = None) -> str:
    """One sentence, computed: how many of the (principle's) estimates were read from the abstract
    only, and why, said once for the page rather than on every row."""
    syn = eb.syntheses
    if principle is not None:
        principle = _check_principle(eb, principle)
        syn = syn.loc[syn["principle"].map(lambda p: principle in _split(p)).to_numpy(dtype=bool)]
    n = len(syn)
    a = int(syn["text_read"].fillna("").eq("abstract").sum())
    if not n:
        return "No published estimate is recorded here yet."
    return (f"{a} of {n} published estimates here were read from the review's abstract only: the copies of "
            "those reviews reachable for this evidence base hold their opening pages, not their results tables. "
            "Such an estimate is copied as the abstract prints it, usually without the number of studies behind "
            "the outcome or its heterogeneity, which lowers its certainty; the review's quality (AMSTAR 2) cannot "
            "be appraised from an abstract." if a else
            f"All {n} published estimates here were read in the reviews' full text.")


_KEY = re.compile(r"^(Q\S+) (\S+) \((.+)\)$")


def certainty_summary(eb, grades: dict) -> pd.DataFrame:
    """A Summary of Findings for reading: per rated outcome its effect, certainty, what GRADE rated
    down on the evidence and, in its own column, what could not be assessed; beside them the
    review's own GRADE and its AMSTAR 2 confidence.

    Parameters
    ----------
    grades : dict outcome -> GradeResult (:func:`grade_published`, :func:`grade_study`)

    Returns
    -------
    DataFrame: outcome (in words), question, outcome_domain, id, effect (95% CI, as
    ``ek.summary_of_findings`` prints it, on the scale graded), direction (better, worse, or none:
    the CI includes no effect, oriented by ``favourable``), studies, participants, certainty, starts (GRADE's
    starting level and why), rated_down (domains rated down on what the review reports),
    not_assessable (domains rated down because the review does not report what they need),
    review_grade, amstar2, source, link.
    """
    sof = summary_of_findings(grades).table if grades else pd.DataFrame()
    appraisals = {r["synthesis_id"]: r for r in eb.appraisals.to_dict("records")} if len(eb.appraisals) else {}
    amstar = amstar2_confidence(eb)
    syn = eb.syntheses.set_index("id")
    rows = []
    for i, (name, g) in enumerate(grades.items()):
        m = _KEY.match(name)
        q, dom, sid = (m.group(1), m.group(2), m.group(3)) if m else ("", "", "")
        known = sid in syn.index
        key = syn.loc[sid, "citation_key"] if known else ""
        ref = eb.references.get(key) if key else None
        dom_t = g.domains
        down = [d for d in DOWNGRADE if int(dom_t.loc[d, "change"]) < 0]
        unassessed = [d for d in down if bool(dom_t.loc[d, "overridden"])
                      and str(dom_t.loc[d, "override_reason"] or "").startswith(UNASSESSED_PREFIX)]
        judged = [f"{_PLAIN_DOMAIN[d]} ({dom_t.loc[d, 'rating']})" for d in down if d not in unassessed]
        outcome = (f"{q} {domain_words(dom)}: {syn.loc[sid, 'outcome']}" if known else name)
        rows.append({
            "outcome": outcome, "question": q, "outcome_domain": dom, "id": sid if known else "",
            "effect": sof["Effect (95% CI)"].iloc[i],
            "direction": _direction({**syn.loc[sid].to_dict(), "id": sid}) if known else "",
            "studies": g.k, "participants": g.n_total,
            "certainty": g.level,
            "starts": "high (randomised trials)" if g.start == "high" else "low (observational or mixed designs)",
            "rated_down": "; ".join(judged), "not_assessable": "; ".join(_PLAIN_DOMAIN[d] for d in unassessed),
            "review_grade": str(appraisals.get(sid, {}).get("review_grade") or "") if known else "",
            "amstar2": amstar.get(key, "not appraised") if known else "",
            "source": short_cite(ref) if ref is not None else "", "link": ref_url(ref) if ref is not None else "",
        })
    cols = ["outcome", "question", "outcome_domain", "id", "effect", "direction", "studies", "participants", "certainty", "starts",
            "rated_down", "not_assessable", "review_grade", "amstar2", "source", "link"]
    out = pd.DataFrame(rows, columns=cols)
    out["studies"] = out["studies"].astype("Int64")
    out["participants"] = pd.to_numeric(out["participants"]).round().astype("Int64")
    return out


__all__ = ["bottom_lines", "gap_lines", "evidence_gap_map", "amstar2_confidence", "reading_note", "anchor_of",
           "bottom_lines_html", "show_bottom_lines", "show_gap_lines", "NOT_APPRAISABLE", "LEVELS", "EMPTY",
           "certainty_summary", "first_sentence"]
