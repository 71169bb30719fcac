"""Published worked example: length of hospital stay, specialist stroke care (dat.normand1999).

Normand, S.-L. T. (1999). Meta-analysis: formulating, evaluating, combining, and reporting.
Statistics in Medicine 18:321-359. Mean differences with the pooled SD (Table VIII, p. 351);
pooled estimates in Table IX (p. 352). 4-decimal values as metafor's test_analysis_example_normand1999.r
checks them against the table.
"""

from __future__ import annotations

import numpy as np
import pytest
from tolerances import published_atol

import evidence_kit as ek

# The tables print 2-3 decimals; the 4-decimal values come from metafor at its default convergence
# (threshold 1e-5), so they are compared to half a unit in the third decimal.
ATOL = published_atol(3)


@pytest.fixture(scope="module")
def dat():
    d = ek.load_dataset("dat.normand1999")
    sdp = np.sqrt(((d.n1i - 1) * d.sd1i ** 2 + (d.n2i - 1) * d.sd2i ** 2) / (d.n1i + d.n2i - 2))
    return d.assign(yi=d.m1i - d.m2i, vi=sdp ** 2 * (1 / d.n1i + 1 / d.n2i))


def test_table_viii_effect_sizes(dat):
    np.testing.assert_allclose(dat["yi"], [-20, -2, -55, -71, -4, 1, 11, -10, 7])
    np.testing.assert_allclose(dat["vi"], [40.5863, 2.0468, 15.2809, 150.2222, 20.1923, 1.2235, 95.3756, 8.0321,
                                           20.6936], atol=ATOL)


@pytest.mark.parametrize(("method", "expected"), [
    ("EE", (-3.4939, -5.0265, -1.9613, 0.0)),
    ("DL", (-14.0972, -24.4454, -3.7490, 218.7216)),
    ("REML", (-15.1217, -32.6716, 2.4282, 685.1965)),
])
def test_table_ix_pooled_estimates(dat, method, expected):
    res = ek.meta_analysis(dat, method=method)
    np.testing.assert_allclose((res.estimate, res.ci_lower, res.ci_upper, res.tau2), expected, atol=ATOL)
