"""Published worked example: BCG vaccine trials with "smoothed" sampling variances (dat.bcg).

Berkey, C. S., Hoaglin, D. C., Mosteller, F., & Colditz, G. A. (1995). A random-effects regression
model for meta-analysis. Statistics in Medicine 14:395-411, page 408: empirical Bayes random- and
mixed-effects models (absolute latitude centred at 33.46) and the equal-effects meta-regression.
4-decimal values as metafor's test_analysis_example_berkey1995.r checks them against page 408,
compared to half a unit in the fourth decimal (the article rounds two values differently, noted).
"""

from __future__ import annotations

import numpy as np
import pytest
from tolerances import published_atol

import evidence_kit as ek

ATOL = published_atol(4)


@pytest.fixture(scope="module")
def dat():
    d = ek.load_dataset("dat.bcg")
    yi = np.log(d.tpos / (d.tpos + d.tneg)) - np.log(d.cpos / (d.cpos + d.cneg))
    # Berkey et al.'s "smoothed" variances, pooling the event-rate information over trials
    vi = np.sum(d.tneg / d.tpos) / (13 * (d.tneg + d.tpos)) + np.sum(d.cneg / d.cpos) / (13 * (d.cneg + d.cpos))
    return d.assign(yi=yi, vi=vi, ablat_c=d.ablat - 33.46)


def test_random_effects_empirical_bayes(dat):
    res = ek.meta_analysis(dat, method="EB")
    assert res.estimate == pytest.approx(-0.5429, abs=ATOL)
    assert res.se == pytest.approx(0.1842, abs=ATOL)
    assert res.tau2 == pytest.approx(0.2682, abs=ATOL)


def test_mixed_effects_latitude(dat):
    res = ek.meta_analysis(dat, method="EB", mods=["ablat_c"])
    np.testing.assert_allclose(res.coefficients["estimate"], [-0.6303, -0.0268], atol=ATOL)  # -0.6304 in article
    np.testing.assert_allclose(res.coefficients["se"], [0.1591, 0.0110], atol=ATOL)
    assert res.tau2 == pytest.approx(0.1572, abs=ATOL)
    assert res.r2 == pytest.approx(41.3844, abs=published_atol(2))
    pred = np.exp(res.predict([0.0, 42 - 33.46])["pred"])
    np.testing.assert_allclose(pred, [0.5324, 0.4236], atol=ATOL)


def test_equal_effects_latitude(dat):
    res = ek.meta_analysis(dat, method="EE", mods=["ablat_c"])
    np.testing.assert_allclose(res.coefficients["estimate"], [-0.5949, -0.0282], atol=ATOL)  # -0.5950 in article
    np.testing.assert_allclose(res.coefficients["se"], [0.0696, 0.0040], atol=ATOL)  # 0.0039 in article
    pred = np.exp(res.predict([0.0, 42 - 33.46])["pred"])
    np.testing.assert_allclose(pred, [0.5516, 0.4336], atol=ATOL)
