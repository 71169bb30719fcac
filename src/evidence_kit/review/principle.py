"""One principle's evidence: its questions, sources, published syntheses on a common metric with
their umbrella credibility, and its gaps."""

from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd

from evidence_kit._core.validate import check_choice
from evidence_kit.certainty import umbrella_credibility
from evidence_kit.citations import format_reference
from evidence_kit.effects.conversions import log_or_to_d
from evidence_kit.review._common import (
    DOMAIN_ORDER,
    SCALES,
    _check_principle,
    _rows_for,
    _split,
    domain_words,
    ref_url,
    short_cite,
)


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
        return pd.DataFrame(columns=["citation_key", "role", "questions", "rows", "reference", "link"])
    out = pd.concat(parts).rename_axis("citation_key").reset_index()
    missing = sorted(set(out["citation_key"]) - set(eb.references))
    if missing:
        raise ValueError(f"citation keys without a reference in evidence/references: {', '.join(missing)}")
    out["reference"] = out["citation_key"].map(lambda key: format_reference(eb.references[key]))
    out["link"] = out["citation_key"].map(lambda key: ref_url(eb.references[key]))
    return out.sort_values(["reference", "role"], kind="stable").reset_index(drop=True)


def common_metric(syntheses: pd.DataFrame) -> pd.DataFrame:
    """Published estimates on a common metric: SMD for d, g, SMD and OR; r for r and Fisher's z.

    Adds ``scale`` ("SMD", "r" or None when not convertible), ``value``, ``lower``, ``upper`` and
    ``conversion`` (what was done, or why nothing was) to a copy of ``syntheses``; and the same
    oriented so that a larger value is better for students (or staff): ``sign`` (+1 when the row's
    ``favourable`` is ``higher`` or not given, -1 when ``lower``), ``better``, ``better_lower`` and
    ``better_upper`` (``sign`` times the value and limits, the limits swapped when negated). Plots
    and sentences read the oriented columns, so that right is always better.

    Notes
    -----
    OR: d = ln(OR) sqrt(3) / pi (Chinn 2000; Borenstein et al. 2009, eq. 7.1), applied to the
    estimate and both CI limits. z: r = tanh(z) (Fisher 1921), limits likewise. Orientation: the
    ``favourable`` column of evidence/syntheses says which side is better; a ratio metric's
    ``lower`` means below 1, i.e. a negative log ratio, so negating the converted value is right.
    """
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
    fav = out["favourable"] if "favourable" in out.columns else pd.Series("higher", index=out.index)
    sign = np.where(fav.fillna("higher").astype(str).str.strip().str.lower().eq("lower").to_numpy(), -1.0, 1.0)
    out["sign"] = sign
    out["better"] = sign * out["value"].to_numpy(dtype=float)
    lo, hi = sign * out["lower"].to_numpy(dtype=float), sign * out["upper"].to_numpy(dtype=float)
    out["better_lower"], out["better_upper"] = np.fmin(lo, hi), np.fmax(lo, hi)
    return out


def credibility(frame: pd.DataFrame) -> pd.DataFrame:
    """Umbrella credibility (``ek.umbrella_credibility``) of rows on a common metric.

    ``frame`` is the output of :func:`common_metric`. Rows with a CI on a common scale are
    classified; the others keep ``credibility`` empty and say why in ``not_assessable``.
    Returns ``frame`` with ``pvalue``, ``credibility``, ``not_assessable`` and ``criteria_not_met``.
    """
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
    for col in ("favourable", "text_read", "flag", "k_unit", "k_total", "p_value", "exposure", "source_url"):
        if col not in out.columns:
            out[col] = np.nan if col == "k_total" else ""
    qtype = eb.questions.set_index("id")["type"]
    out["question_type"] = out["question"].map(lambda q: qtype.get(_split(q)[0], "") if _split(q) else "")
    refs = eb.references
    out["source"] = out["citation_key"].map(lambda key: short_cite(refs[key]) if key in refs else key)
    out["link"] = [ref_url(refs[key]) if key in refs else "" for key in out["citation_key"]]
    out["link"] = np.where(out["link"].eq(""), out["source_url"].fillna(""), out["link"])
    keep = ["id", "question", "outcome_domain", "outcome", "metric", "estimate", "ci_lower", "ci_upper", "ci_level",
            "k", "n", "i2", "pi_lower", "pi_upper", "design", "scale", "value", "lower", "upper", "conversion",
            "pvalue", "credibility", "not_assessable", "criteria_not_met", "citation_key", "locator",
            # added for reading: orientation, what was read, flags, and the source in words with its link
            "favourable", "sign", "better", "better_lower", "better_upper", "k_unit", "k_total", "p_value",
            "text_read", "flag", "question_type", "exposure", "source", "link", "source_url"]
    out[["favourable", "text_read", "flag", "k_unit", "p_value", "exposure", "source_url"]] = out[
        ["favourable", "text_read", "flag", "k_unit", "p_value", "exposure", "source_url"]].fillna("")
    return out[keep].sort_values(["question", "outcome_domain", "id"], kind="stable").reset_index(drop=True)


#: Smallest font of the review's plots, in points (legible when a page shows the figure at its size).
FONT_MIN = 9


def forest_panels(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """The (outcome_domain, scale) panels :func:`published_forest` draws for ``frame``: one per outcome
    domain and common scale with at least one estimate, domains in the order of evidence/README.md,
    SMD before r."""
    order = list(DOMAIN_ORDER)
    sub = frame.loc[frame["scale"].notna(), ["outcome_domain", "scale"]].drop_duplicates()
    keys = sorted(map(tuple, sub.to_numpy()), key=lambda t: (order.index(t[0]) if t[0] in order else len(order),
                                                             SCALES.index(t[1])))
    return [(str(d), str(sc)) for d, sc in keys]


def _estimate_text(v, lo, hi, digits=2) -> str:
    f = lambda x: f"{x:.{digits}f}".replace("-", "\u2212")  # noqa: E731
    return f"{f(v)} [{f(lo)}, {f(hi)}]" if not (math.isnan(lo) or math.isnan(hi)) else f"{f(v)} (no CI)"


def published_forest(frame: pd.DataFrame, scale: str = "SMD", ax=None, *, domain: str | None = None,
                     width: int = 44, fontsize: float = 10):
    """Forest plot of published estimates on one common scale, made for reading.

    Every estimate is oriented by its ``favourable`` column so that right is better (columns
    ``better``, ``better_lower``, ``better_upper`` of :func:`common_metric`), with "favours" labels
    under each side of the axis, each row labelled "source: outcome" (wrapped, never cut), and two
    columns at the right: the estimate [95% CI] as plotted and k. Rows without a CI are open
    circles; flagged rows (``flag``: left out of pooling and GRADE) are hollow grey squares marked
    "*" and their reasons are a footnote; a "\u2021" marks an estimate whose sign was reversed (the
    review reports lower as better). ``domain`` keeps one outcome domain (one plot per domain:
    :func:`forest_panels`). Text is at least :data:`FONT_MIN` points. Returns the Axes; never
    calls ``plt.show()``.
    """
    scale = check_choice("scale", scale, SCALES)
    sub = frame.loc[frame["scale"] == scale]
    if domain is not None:
        sub = sub.loc[sub["outcome_domain"] == domain]
    fontsize = max(float(fontsize), FONT_MIN)
    better = sub["better"] if "better" in sub.columns else sub["value"]
    b_lo = sub["better_lower"] if "better_lower" in sub.columns else sub["lower"]
    b_hi = sub["better_upper"] if "better_upper" in sub.columns else sub["upper"]
    flag = sub["flag"].fillna("").astype(str) if "flag" in sub.columns else pd.Series("", index=sub.index)
    sign = sub["sign"] if "sign" in sub.columns else pd.Series(1.0, index=sub.index)
    who = sub["source"] if "source" in sub.columns else sub["id"]
    labels = [textwrap.fill(f"{w}: {o}", width) for w, o in zip(who, sub["outcome"].astype(str))]
    lines = np.array([lab.count("\n") + 1 for lab in labels])
    # rows stacked from the top, each as tall as its label
    heights = np.maximum(lines, 1) * 1.0 + 0.35
    y = -(np.cumsum(heights) - heights / 2)
    notes = [f"* {i}: {textwrap.fill(r, 110, subsequent_indent='   ')}" for i, r in zip(sub["id"], flag) if r]
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 0.24 * heights.sum() + 1.4))
    ci = (b_lo.notna() & b_hi.notna()).to_numpy()
    flagged = flag.ne("").to_numpy()
    for yi, v, lo, hi, c, fl in zip(y, better, b_lo, b_hi, ci, flagged):
        colour = "grey" if fl else "black"
        if c:
            ax.hlines(yi, lo, hi, color=colour, lw=1.2)
        ax.plot(v, yi, "s" if c else "o", ms=6, color=colour, mfc="white" if (fl or not c) else colour)
    ax.set_yticks(y, labels, fontsize=fontsize)
    ax.tick_params(axis="x", labelsize=fontsize)
    ax.axvline(0, color="grey", lw=0.8, ls="--")
    ax.set_ylim(y.min() - heights[-1] / 2 - 0.3 if len(y) else -1, 0.3)
    right = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    ax.text(1.04, 0.3, "estimate [95% CI]", transform=right, fontsize=fontsize, fontweight="bold", va="bottom")
    ax.text(1.62, 0.3, "k", transform=right, fontsize=fontsize, fontweight="bold", va="bottom", ha="right")
    for yi, v, lo, hi, k, fl, sg in zip(y, better, b_lo, b_hi, sub["k"], flagged, sign):
        mark = ("*" if fl else "") + ("\u2021" if sg < 0 else "")
        ax.text(1.04, yi, _estimate_text(v, lo, hi) + mark, transform=right, fontsize=fontsize, va="center")
        ax.text(1.62, yi, "\u2013" if pd.isna(k) else f"{int(k):,}", transform=right, fontsize=fontsize,
                va="center", ha="right")
    interventions = "question_type" in sub.columns and len(sub) and sub["question_type"].eq("intervention").all()
    left_txt, right_txt = (("favours comparison", "favours intervention") if interventions
                           else ("worse outcomes", "better outcomes"))
    ax.annotate("\u2190 " + left_txt, xy=(0, 0), xycoords="axes fraction", xytext=(0, -2.3 * fontsize),
                textcoords="offset points", ha="left", va="top", fontsize=fontsize)
    ax.annotate(right_txt + " \u2192", xy=(1, 0), xycoords="axes fraction", xytext=(0, -2.3 * fontsize),
                textcoords="offset points", ha="right", va="top", fontsize=fontsize)
    ax.set_xlabel(("standardized mean difference" if scale == "SMD" else "correlation r")
                  + " (oriented: right is better)", fontsize=fontsize, labelpad=2.2 * fontsize)
    if domain is not None:
        ax.set_title(f"{domain_words(domain)[:1].upper()}{domain_words(domain)[1:]}", fontsize=fontsize + 1,
                     loc="left")
    foot = []
    if (sign < 0).any():
        foot.append("\u2021 sign reversed so that right is better (the review reports lower as better)")
    if (~ci).any():
        foot.append("open circle: published without a CI")
    foot += notes
    if foot:
        ax.annotate("\n".join(foot), xy=(0, 0), xycoords="axes fraction", xytext=(0, -5.2 * fontsize),
                    textcoords="offset points", ha="left", va="top", fontsize=FONT_MIN)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


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


#: The columns of :func:`published_syntheses` a notebook shows: the estimate as published, then on
#: the common metric with its umbrella class; and the conversion and credibility details.
PUBLISHED_DISPLAY = ["id", "question", "outcome_domain", "metric", "estimate", "ci_lower", "ci_upper", "k", "n",
                     "i2", "scale", "value", "lower", "upper", "credibility"]
CREDIBILITY_DISPLAY = ["id", "outcome", "conversion", "not_assessable", "criteria_not_met", "locator"]


def _wrap(text: str, width: int, **kwargs) -> str:
    return textwrap.fill(text, width, **kwargs)


def print_questions(questions: pd.DataFrame, width: int = 100) -> None:
    """Each question of :func:`questions_table` in one wrapped PICO line."""
    for qid, q in questions.iterrows():
        print(_wrap(f"{qid} ({q['type']}) P: {q['population']}; I/E: {q['intervention_or_exposure']}; "
                    f"C: {q['comparator']}; O: {q['outcomes']}", width, subsequent_indent="    "))


def print_references(sources: pd.DataFrame, width: int = 100) -> None:
    """The formatted references of :func:`sources_table`, one paragraph each."""
    for ref in sources["reference"]:
        print(_wrap(ref, width, subsequent_indent="    "), end="\n\n")


def print_not_assessable(frame: pd.DataFrame) -> None:
    """How many classified rows of :func:`published_syntheses` could not assess each umbrella criterion."""
    classified = frame[frame["credibility"] != ""]
    print(f"{len(classified)} of {len(frame)} rows classified")
    print(classified["not_assessable"].str.split(", ").explode().value_counts().rename("rows").to_string())


def print_stated_gaps(stated: pd.DataFrame, principle: str, width: int = 100) -> None:
    """Each gap of :func:`stated_gaps`: where it is, why nothing could be pooled, what was searched."""
    print(f"{len(stated)} stated gap(s)")
    for g in stated.itertuples():
        where = " ".join(x for x in (g.question or principle, g.outcome_domain) if x)
        print(_wrap(f"{where}: {g.reason}", width, subsequent_indent="    "))
        print(_wrap(f"searched: {g.searched}", width, initial_indent="    ", subsequent_indent="    "))
