"""essa_tier: only ratings under WWC standards 2.1 or later count towards Tiers 1-2.

Source: the WWC's ESSA page (https://ies.ed.gov/ncee/wwc/essa, read 2026-11-28): strong evidence
needs a finding that meets WWC standards without reservations "under version 2.1 or later",
moderate evidence one that meets with or without reservations under 2.1 or later. The WWC's own
example: Positive Action, Hawaii trial (Flay et al. 2006; WWC Study 65132, reviewed April 2007
under standards 1.0 per the WWC study-review data, finding 315): Meets Without Reservations,
significant favourable findings, 2,660 students in 20 schools, and the WWC page says "promising
evidence" (Tier 3), not strong.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evidence_kit as ek

MWOR = "Meets WWC Standards Without Reservations"


def _study(**kw):
    row = {"study": "flay2006", "design": "RCT", "rating": MWOR, "effect": "favorable", "significant": True,
           "n": 2660, "sites": 20}
    row.update(kw)
    return pd.DataFrame([row])


def test_positive_action_hawaii_is_promising_as_the_wwc_says():
    res = ek.essa_tier(_study(standards_version=1.0))
    assert res.tier == 3
    assert any("before version 2.1, so Tier 3 at most" in r and "flay2006" in r for r in res.reasons)


@pytest.mark.parametrize(("version", "tier"), [(2.1, 1), (3.0, 1), (4.1, 1), (5.0, 1), (2.0, 3), (1.0, 3)])
def test_version_boundary(version, tier):
    assert ek.essa_tier(_study(standards_version=version)).tier == tier


def test_with_reservations_under_an_old_version_is_not_moderate():
    res = ek.essa_tier(_study(design="QED", rating="Meets WWC Standards With Reservations", standards_version=1.0))
    assert res.tier == 3
    assert ek.essa_tier(_study(design="QED", rating="Meets WWC Standards With Reservations",
                               standards_version=4.0)).tier == 2


def test_unknown_and_absent_versions_are_named():
    res = ek.essa_tier(_study(standards_version=np.nan))
    assert res.tier == 1 and any("version unknown, taken as 2.1 or later: flay2006" in r for r in res.reasons)
    res = ek.essa_tier(_study())
    assert res.tier == 1 and any("standards version not checked" in r for r in res.reasons)
    with pytest.raises(ValueError, match="standards_version must be a number"):
        ek.essa_tier(_study(standards_version="v4"))


def test_an_unfavourable_finding_overrides_only_its_own_outcome():
    """Positive Action, Hawaii (WWC Study 65132, "promising evidence"): suspensions favourable and
    significant (finding 315), serious violence unfavourable and significant (finding 321), both
    from the same RCT rated under standards 1.0 (WWC study-review data). Per outcome, the
    unfavourable finding does not override suspensions, so Tier 3, as the WWC says."""
    rows = pd.concat([_study(outcome="suspensions", standards_version=1.0),
                      _study(outcome="serious violence", effect="unfavorable", standards_version=1.0)])
    res = ek.essa_tier(rows)
    assert res.tier == 3
    assert any("Tier 3" in r and "flay2006 (suspensions)" in r for r in res.reasons)
    # the same outcome: overridden, and nothing else qualifies
    same = pd.concat([_study(outcome="suspensions", standards_version=1.0),
                      _study(study="other2010", outcome="suspensions", effect="unfavorable", standards_version=4.0)])
    res = ek.essa_tier(same, rationale=False)
    assert res.tier is None
    assert any("overridden by significant unfavorable findings on the same outcome: other2010 (suspensions)" in r
               for r in res.reasons)
    # without an outcome column the override is evidence-wide (the conservative reading)
    res = ek.essa_tier(rows.drop(columns="outcome"), rationale=False)
    assert res.tier is None and any("anywhere in the evidence" in r for r in res.reasons)
