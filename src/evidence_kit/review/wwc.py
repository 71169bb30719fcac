"""WWC study ratings and ESSA tiers of the programmes recorded in ``evidence/wwc/``."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd

from evidence_kit.certainty import essa_tier, improvement_index, wwc_rating
from evidence_kit.certainty.wwc import attrition_rates, baseline_equivalence
from evidence_kit.effects.conversions import cox_index, wwc_hedges_g
from evidence_kit.review._common import _check_principle, _split


def wwc_baseline(eb) -> pd.DataFrame:
    """``eb.wwc_baseline`` with each characteristic's baseline effect size computed as the WWC does:
    Hedges' g from means and SDs (``ek.wwc_hedges_g``) or the Cox index from proportions
    (``ek.cox_index``), intervention minus comparison; ``category`` as ``wwc.baseline_equivalence``."""
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


#: The columns of :func:`wwc_ratings` a notebook shows: our rating beside the WWC's first, then the facts
#: behind ours (the programme is in the tiers table, the reasons are printed in full below it).
WWC_DISPLAY = ["id", "outcome", "design", "assignment", "rating", "wwc_rating_published", "wwc_standards_version",
               "agrees", "overall_attrition", "differential_attrition", "cluster_overall_attrition", "attrition",
               "max_baseline_es", "improvement_index"]


def print_reasons(frame: pd.DataFrame, *, key: str = "id", column: str = "reasons", width: int = 100) -> None:
    """Print each row's reasons in full, wrapped (tables truncate long text)."""
    for k, text in zip(frame[key], frame[column]):
        print(textwrap.fill(f"{k}: {text}", width, subsequent_indent="    "))


#: Said once above a WWC table, not on every row: why cluster designs carry only the WWC's rating.
WWC_CLUSTER_NOTE = ("Cluster-randomised and cluster-assigned designs (schools or classrooms assigned) are not "
                    "recomputed here: the WWC's decision steps for them (Standards Handbook v4.1, Section II.B, "
                    "pp. 18-29; kept in v5.0) could not be read, so no rating is guessed and the WWC's own published "
                    "rating stands for them.")


def _ours(r: dict) -> str:
    if r["rating"] != "not rated":
        return r["rating"]
    if r["assignment"] == "cluster":
        return "not recomputed (cluster design)"
    reason = str(r["reasons"]).removeprefix("not rated: ")
    if "attrition" in reason:
        return "not recomputed (the report gives no attrition per arm)"
    if "baseline" in reason:
        return "not recomputed (no baseline statistics of the analytic sample)"
    return f"not recomputed ({reason.split(':')[0]})"


def wwc_table(ratings: pd.DataFrame) -> pd.DataFrame:
    """The WWC findings for reading: the WWC's published rating first, then our recomputation
    where the design allows it (a short reason where it does not; cluster designs: say
    :data:`WWC_CLUSTER_NOTE` once above the table), whether they agree, and the finding.

    Returns a DataFrame: intervention, outcome, wwc_rating (the WWC's words, or "not reviewed by
    the WWC"), ours, agrees ("yes", "no" or empty), design (e.g. "RCT, cluster"), effect_size,
    improvement_index, n (students), significant ("yes"/"no"), citation_key, id.
    """
    rows = []
    for r in ratings.to_dict("records"):
        agrees = r["agrees"]
        rows.append({
            "intervention": r["intervention"], "outcome": r["outcome"],
            "wwc_rating": r["wwc_rating_published"] or "not reviewed by the WWC",
            "ours": _ours(r), "agrees": "" if agrees is pd.NA or pd.isna(agrees) else ("yes" if agrees else "no"),
            "design": f"{r['design']}, {r['assignment']}", "effect_size": r["effect_size"],
            "improvement_index": r["improvement_index"], "n": r["n"],
            "significant": "yes" if bool(r["significant"]) else "no", "citation_key": r["citation_key"], "id": r["id"],
        })
    cols = ["intervention", "outcome", "wwc_rating", "ours", "agrees", "design", "effect_size", "improvement_index",
            "n", "significant", "citation_key", "id"]
    out = pd.DataFrame(rows, columns=cols)
    out["n"] = pd.to_numeric(out["n"]).round().astype("Int64")
    return out
