"""ESSA evidence tiers of an intervention from its rated findings.

Sources (cited per rule in ``essa_tier``): ESSA section 8101(21)(A) (20 U.S.C. 7801(21)(A)), read
on the LII definitions page (URL in ``evidence_kit.certainty.wwc``); the WWC's ESSA page
https://ies.ed.gov/ncee/wwc/essa (standards version 2.1 or later for Tiers 1-2); the WWC's own
finding-level ESSA labels in its study-review data. The Department's 2016 non-regulatory guidance
and EDGAR 34 CFR 77.1 were not readable here; what that leaves open is said in ``essa_tier``.
WWC study ratings themselves are in ``evidence_kit.certainty.wwc``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evidence_kit._core.validate import check_choice
from evidence_kit.certainty.wwc import RATINGS

_ESSA_LABELS = {1: "Tier 1 (strong evidence)", 2: "Tier 2 (moderate evidence)",
                3: "Tier 3 (promising evidence)", 4: "Tier 4 (demonstrates a rationale)"}
_ESSA_COLUMNS = ("study", "design", "rating", "effect", "significant", "n", "sites")


@dataclass(frozen=True)
class EssaTier:
    """ESSA evidence tier of an intervention (None when no tier is supported) with reasons."""

    tier: int | None
    label: str
    reasons: list[str]
    studies: pd.DataFrame

    def __repr__(self) -> str:
        return f"EssaTier({self.label})\n" + "\n".join(f"- {r}" for r in self.reasons)


def essa_tier(
    studies: pd.DataFrame,
    *,
    rationale: bool | None = None,
    min_sample: int = 350,
    min_sites: int = 2,
) -> EssaTier:
    """The ESSA evidence tier an intervention's rated studies support.

    Parameters
    ----------
    studies : DataFrame
        One row per finding, columns: ``study``; ``design`` (RCT, QED or correlational);
        ``rating`` (a WWC rating from :func:`wwc_rating`; for correlational studies
        "controls for selection bias" or "no controls"); ``effect`` (favorable / unfavorable /
        null: the direction of the finding); ``significant`` (bool: statistically significant);
        ``n`` (students in the analytic sample, summed over the study's sites);
        ``sites`` (number of educational sites). Optional: ``overlaps_population`` (bool: the
        sample overlaps the populations and settings proposed), required True for Tiers 1-2
        when given; when the column is absent the reasons say it was not checked.
        Optional: ``outcome`` (the outcome a finding measures, named alike across studies): a
        significant unfavorable finding then overrides only favorable findings on the same
        outcome; without the column it overrides every finding (the conservative reading).
        Optional: ``standards_version`` (the version of the WWC standards the rating was made
        under, e.g. 1.0, 2.1, 3.0, 4.1, 5.0; NaN where unknown): the WWC counts only ratings under
        version 2.1 or later towards Tiers 1-2, so an older rating supports Tier 3 at most;
        unknown versions are named in the reasons.
    rationale : bool, optional
        For Tier 4: a logic model informed by research shows the intervention is likely to
        improve outcomes, and effects are being studied. Required (True/False) when no study
        supports Tiers 1-3: the tier is then not guessed.
    min_sample, min_sites : int
        The "large, multi-site sample" of Tiers 1-2: 350 students and 2 sites (ESSA guidance 2016,
        table of the evidence tiers; not read, see Notes). ``min_sample=0, min_sites=1`` drops
        the requirement, which is what the WWC's own finding-level ESSA labels do (see Notes).

    Returns
    -------
    EssaTier

    Notes
    -----
    What was read and what was not (2026-11-28):

    * the statute, 20 U.S.C. 7801(21)(A) (ESSA section 8101(21)(A); LII definitions page, URL in
      the module docstring), read: a statistically significant effect on outcomes, with strong
      evidence meaning one experimental study at least, moderate a quasi-experimental one,
      promising a correlational one with statistical controls for selection bias (clauses
      (i)(I)-(III)); or a research-based rationale plus ongoing study of the effects (clause
      (ii)). The tiers' study designs below follow those clauses;
    * the Department's Non-Regulatory Guidance "Using Evidence to Strengthen Education
      Investments" (2016) and EDGAR 34 CFR 77.1: NOT read. The 350-student / multi-site rule,
      the population-overlap rule and "no overriding negative effects from causal studies" come
      from the guidance's table of tiers as reproduced on a school-support site
      (https://www.sst6.org/Evidence-BasedPracticesEBP.aspx), which words the sample rule as "at
      least 350 students and at least 2 districts": whether a site is a school or a district is
      therefore not settled here (``sites`` counts what the caller counts);
    * the WWC's own ESSA labels in its study-review data (GitHub betsyjwolf/evidence-maps,
      wp_meta_v2.csv, commit b3805be) do not apply the large multi-site rule: findings 5952
      (RCT, Meets Without Reservations, significant, 483 students, not multisite) and 5963 (RCT,
      Meets With Reservations, significant, 54 students, not multisite) are labelled "ESSA Tier
      1" and "ESSA Tier 2". With ``min_sample=0, min_sites=1`` this function gives the same tiers
      (tests/test_wwc_handbook.py); with the defaults it gives Tier 3 for both.

    The rules:

    * Tier 1 (strong): at least one RCT finding rated Meets WWC Standards Without Reservations,
      statistically significant and favorable, with at least 350 students in at least 2
      educational sites;
    * Tier 2 (moderate): as Tier 1 but the finding may Meet WWC Standards With or Without
      Reservations (e.g. a QED);
    * Tier 3 (promising): a correlational study with statistical controls for selection bias, or
      an experimental / quasi-experimental study without the large multi-site sample (the
      guidance's table of tiers lists both), with a significant favorable finding;
    * Tiers 1-3 also require "no overriding negative effects from causal studies": a
      statistically significant unfavorable finding from a study meeting WWC standards overrides
      the favorable findings on the same outcome (with the ``outcome`` column; every finding
      without it). The guidance's wording of the scope was not read; the WWC's own labels show
      the per-outcome reading: it calls Positive Action's Hawaii trial "promising evidence"
      (WWC Study 65132) although the same study has a significant unfavorable finding on another
      outcome (serious violence; WWC study-review data, finding 321);
    * Tiers 1-2 also require that the sample overlaps the populations or settings proposed
      (checked when ``overlaps_population`` is given);
    * Tiers 1-2 count a rating only if it was made under WWC standards version 2.1 or later (the
      WWC's ESSA page, https://ies.ed.gov/ncee/wwc/essa, read 2026-11-28: "Meets WWC Standards
      Without Reservations under version 2.1 or later" for strong evidence, with or without
      reservations under 2.1 or later for moderate); checked when ``standards_version`` is given.
      This is why the WWC calls Positive Action's Hawaii trial (Flay et al. 2006, reviewed in
      2007 under standards 1.0; WWC Study 65132) "promising" despite 2,660 students in 20 schools;
    * Tier 4 (demonstrates a rationale): see ``rationale``.
    """
    if not isinstance(studies, pd.DataFrame):
        raise TypeError("studies must be a DataFrame with columns " + ", ".join(_ESSA_COLUMNS))
    missing = [c for c in _ESSA_COLUMNS if c not in studies.columns]
    if missing:
        raise ValueError(f"essa_tier needs columns {', '.join(missing)} (the facts each tier rule uses)")
    df = studies.loc[:, list(_ESSA_COLUMNS)].copy().reset_index(drop=True)
    for col in _ESSA_COLUMNS:
        if df[col].isna().any():
            rows = df["study"][df[col].isna()].tolist()
            raise ValueError(f"essa_tier: column {col!r} is missing for studies {rows}")
    def canonical(column, check):  # each distinct value checked once (columns repeat down the rows)
        return df[column].map({v: check(v) for v in df[column].unique()})

    df["design"] = canonical("design", lambda d: check_choice("design", d, ("RCT", "QED", "correlational")))
    df["effect"] = canonical("effect", lambda e: check_choice(
        "effect", e, ("favorable", "unfavorable", "null"),
        aliases={"favourable": "favorable", "unfavourable": "unfavorable"}))
    rating_options = RATINGS + ("controls for selection bias", "no controls")
    df["rating"] = canonical("rating", lambda r: check_choice("rating", r, rating_options))
    if not (df["significant"].dtype == bool or df["significant"].map(lambda v: isinstance(v, bool | np.bool_)).all()):
        raise ValueError("essa_tier: column 'significant' must be True/False for every finding")
    meets_without = df["rating"] == RATINGS[0]
    meets = meets_without | (df["rating"] == RATINGS[1])
    correlational = (df["design"] == "correlational") & (df["rating"] == "controls for selection bias")
    sig_fav = df["significant"].astype(bool) & (df["effect"] == "favorable")
    sig_unfav = df["significant"].astype(bool) & (df["effect"] == "unfavorable")
    big = (df["n"].astype(float) >= min_sample) & (df["sites"].astype(float) >= min_sites)
    reasons: list[str] = []

    if "overlaps_population" in studies.columns:
        overlap = studies["overlaps_population"].reset_index(drop=True)
        if not overlap.map(lambda v: isinstance(v, bool | np.bool_)).all():
            raise ValueError("essa_tier: column 'overlaps_population' must be True/False for every finding")
        overlap = overlap.astype(bool)
        df["overlaps_population"] = overlap
    else:
        overlap = pd.Series(True, index=df.index)
        reasons.append("population/setting overlap not checked (no 'overlaps_population' column)")
    if "standards_version" in studies.columns:
        version = pd.to_numeric(studies["standards_version"].reset_index(drop=True), errors="coerce")
        bad = studies["standards_version"].reset_index(drop=True).notna() & version.isna()
        if bad.any():
            raise ValueError(f"essa_tier: standards_version must be a number (e.g. 2.1, 4.1); studies "
                             f"{df['study'][bad].tolist()}")
        df["standards_version"] = version
        old = version < 2.1 - 1e-9
        if old.any():
            reasons.append(f"rated under WWC standards before version 2.1, so Tier 3 at most (WWC ESSA page): "
                           f"{', '.join(map(str, df['study'][old].unique()))}")
        unknown = version.isna() & meets
        if unknown.any():
            reasons.append(f"WWC standards version unknown, taken as 2.1 or later: "
                           f"{', '.join(map(str, df['study'][unknown].unique()))}")
        current = ~old
    else:
        current = pd.Series(True, index=df.index)
        reasons.append("WWC standards version not checked (no 'standards_version' column)")

    negative = sig_unfav & meets
    if "outcome" in studies.columns:
        outcome = studies["outcome"].reset_index(drop=True).astype(str)
        df["outcome"] = outcome
        overridden = outcome.isin(set(outcome[negative]))
        scope = "on the same outcome"
    else:
        overridden = pd.Series(bool(negative.any()), index=df.index)
        scope = "anywhere in the evidence (no 'outcome' column, so the override is not limited to one outcome)"

    def label(mask):
        if "outcome" in df.columns:
            return ", ".join(f"{s} ({o})" for s, o in zip(df["study"][mask], df["outcome"][mask]))
        return ", ".join(map(str, df["study"][mask]))

    def qualifies(mask, tier, what):
        if not mask.any():
            return False
        blocked, ok = mask & overridden, mask & ~overridden
        if blocked.any():
            reasons.append(f"{what}: {label(blocked)} overridden by significant unfavorable findings {scope}: "
                           f"{label(negative)} "
                           f"(no overriding negative effects from causal studies): not counted for Tier {tier}")
        if not ok.any():
            return False
        reasons.append(f"Tier {tier}: {what}: {label(ok)} (ESSA 8101(21)(A); guidance 2016)")
        return True

    tier: int | None = None
    if qualifies((df["design"] == "RCT") & meets_without & sig_fav & big & overlap & current, 1,
                 f"RCT meeting WWC standards without reservations, significant favorable, >= {min_sample} "
                 f"students in >= {min_sites} sites"):
        tier = 1
    elif qualifies(meets & sig_fav & big & overlap & current, 2,
                   f"study meeting WWC standards with or without reservations, significant favorable, "
                   f">= {min_sample} students in >= {min_sites} sites"):
        tier = 2
    elif qualifies((correlational | meets) & sig_fav, 3,
                   "study meeting WWC standards that falls short of Tiers 1-2 (sample, sites or standards "
                   "version), or a correlational study with controls for selection bias; significant favorable"):
        tier = 3
    if tier is None:
        if rationale is None:
            raise ValueError("no finding supports Tiers 1-3; Tier 4 needs rationale=True/False (a research-based "
                             "logic model and ongoing evaluation, ESSA 8101(21)(A)(ii))")
        if rationale:
            tier = 4
            reasons.append("Tier 4: demonstrates a rationale (ESSA 8101(21)(A)(ii)), stated by the reviewer")
        else:
            reasons.append("no tier: no finding supports Tiers 1-3 and no rationale was stated")
    return EssaTier(tier, _ESSA_LABELS.get(tier, "No ESSA tier"), reasons, df)
