"""Published worked example: Konstantopoulos (2011), Research Synthesis Methods 2:61-76,
modified school calendars, 56 schools in 11 districts. Table 4 (page 70): two-level model;
Table 5 (page 71): three-level model (ML). Values printed to three decimals."""

from __future__ import annotations

import numpy as np
import pytest
from tolerances import published_atol

import evidence_kit as ek
from evidence_kit.synthesis.multilevel import multilevel_meta_analysis

ATOL = published_atol(3)


@pytest.fixture(scope="module")
def dat():
    d = ek.load_dataset("dat.konstantopoulos2011")
    return d.assign(year_c=d.year - d.year.mean(), row=np.arange(len(d)))


def test_table5_three_level_ml(dat):
    res = multilevel_meta_analysis(dat, levels=["district", "school"], method="ML")
    np.testing.assert_allclose(res.estimate, 0.184, atol=ATOL)
    np.testing.assert_allclose(res.se, 0.080, atol=ATOL)
    np.testing.assert_allclose(res.sigma2, [0.058, 0.033], atol=ATOL)


def test_table5_three_level_ml_with_year(dat):
    res = multilevel_meta_analysis(dat, levels=["district", "school"], mods=["year_c"],
                                   method="ML")
    # the paper prints an intercept of 0.183; metafor's own test of this example
    # (test_analysis_example_konstantopoulos2011.r) reads it as a misprint for 0.178
    np.testing.assert_allclose(res.coefficients["estimate"], [0.178, 0.005], atol=ATOL)
    np.testing.assert_allclose(res.coefficients["se"], [0.080, 0.009], atol=ATOL)
    np.testing.assert_allclose(res.sigma2, [0.056, 0.033], atol=ATOL)


def test_table4_two_level_as_one_level_multilevel(dat):
    """The two-level model of Table 4 is a one-level multilevel model (a group per school);
    Table 4 reports the REML fit: 0.128 (SE 0.044), tau^2 = 0.088."""
    res = multilevel_meta_analysis(dat, levels=["row"], method="REML")
    np.testing.assert_allclose(res.estimate, 0.128, atol=ATOL)
    np.testing.assert_allclose(res.se, 0.044, atol=ATOL)
    np.testing.assert_allclose(res.sigma2, [0.088], atol=ATOL)


def test_reml_icc_and_total_heterogeneity(dat):
    """REML (not in the paper; metafor's example test): ICC 0.665, total 0.098, logLik -7.9587."""
    res = multilevel_meta_analysis(dat, levels=["district", "school"])
    np.testing.assert_allclose(res.sigma2[0] / res.sigma2.sum(), 0.665, atol=ATOL)
    np.testing.assert_allclose(res.sigma2.sum(), 0.098, atol=ATOL)
    np.testing.assert_allclose(res.ll, -7.9587, atol=published_atol(4))
