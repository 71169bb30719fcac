"""effect_sizes against published worked examples (source and place cited in each test).

Borenstein, Hedges, Higgins & Rothstein (2009), Introduction to Meta-Analysis (Wiley): the page
numbers first given here were written from memory. On 2026-11-28 neither the pages nor the
printed numbers could be found in any source reachable with the search tools, so the citations
below name the chapter only ("page not verified"). The expected values were re-derived from the
chapter formulas by arithmetic on 2026-11-28 (they agree to the 4 decimals used), not checked
against a copy of the book.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tolerances import published_atol

import evidence_kit as ek

A4 = published_atol(4)


def test_borenstein_ch4_raw_mean_difference_and_g():
    """Borenstein et al. (2009), Introduction to Meta-Analysis, chapter 4 (effect sizes based on
    means; page not verified): means 103 and 100, SDs 5.5 and 4.5, n = 50 each. D = 3.0000 with
    V_D = 1.0100 (pooled SD 5.0249, so the pooled-variance 'HO' vtype); g = 0.5924 with
    V_g = 0.0411 (J^2 V_d: metafor's vtype 'LS2')."""
    data = pd.DataFrame({"m1i": [103.0], "m2i": [100.0], "sd1i": [5.5], "sd2i": [4.5], "n1i": [50], "n2i": [50]})
    cols = dict(m1i="m1i", m2i="m2i", sd1i="sd1i", sd2i="sd2i", n1i="n1i", n2i="n2i")
    md = ek.effect_sizes(data, "MD", vtype="HO", **cols)
    assert md["yi"][0] == pytest.approx(3.0000, abs=A4)
    assert md["vi"][0] == pytest.approx(1.0100, abs=A4)
    g = ek.effect_sizes(data, "SMD", vtype="LS2", **cols)
    assert g["yi"][0] == pytest.approx(0.5924, abs=A4)
    assert g["vi"][0] == pytest.approx(0.0411, abs=A4)


def test_borenstein_ch5_binary_example():
    """Borenstein et al. (2009), chapter 5 (effect sizes based on binary data; page not
    verified): 5/100 events treated, 10/100 control. ln RR = -0.6931, V = 0.2800; ln OR = -0.7472, V = 0.3216;
    RD = -0.0500, V = 0.0014 (0.001375)."""
    cells = dict(ai=[5], bi=[95], ci=[10], di=[90])
    rr = ek.effect_sizes(measure="RR", **cells)
    assert rr["yi"][0] == pytest.approx(-0.6931, abs=A4)
    assert rr["vi"][0] == pytest.approx(0.2800, abs=A4)
    odds = ek.effect_sizes(measure="OR", **cells)
    assert odds["yi"][0] == pytest.approx(-0.7472, abs=A4)
    assert odds["vi"][0] == pytest.approx(0.3216, abs=A4)
    rd = ek.effect_sizes(measure="RD", **cells)
    assert rd["yi"][0] == pytest.approx(-0.0500, abs=A4)
    assert rd["vi"][0] == pytest.approx(0.0014, abs=A4)


def test_borenstein_ch6_fisher_z():
    """Borenstein et al. (2009), chapter 6 (effect sizes based on correlations; page not
    verified): r = 0.50, n = 100 gives z = 0.5493 with V_z = 1/97 = 0.0103."""
    z = ek.effect_sizes(measure="ZCOR", ri=[0.5], ni=[100])
    assert z["yi"][0] == pytest.approx(0.5493, abs=A4)
    assert z["vi"][0] == pytest.approx(0.0103, abs=A4)
    r = ek.effect_sizes(measure="COR", ri=[0.5], ni=[100])
    assert r["vi"][0] == pytest.approx((1 - 0.25) ** 2 / 99, rel=1e-12)


def test_bcg_log_odds_ratios_van_houwelingen_2002():
    """BCG trials (Colditz et al. 1994) as tabulated by van Houwelingen, Arends & Stijnen (2002),
    Statistics in Medicine 21(4), 589-624, Table I (the article's volume, issue and pages checked
    2026-11-28 against metadat's data-raw/dat.bcg.r, https://rdrr.io/github/wviechtb/metadat/src/
    data-raw/dat.bcg.r; the table's page, first given as p. 594, not verified); log odds ratios
    and variances as printed on the metafor project's replication page (metafor-project.org,
    analyses:vanhouwelingen2002; that page not re-read), trials 1-7."""
    printed = [(-0.9387, 0.3571), (-1.6662, 0.2081), (-1.3863, 0.4334), (-1.4564, 0.0203),
               (-0.2191, 0.0520), (-0.9581, 0.0099), (-1.6338, 0.2270)]
    out = ek.effect_sizes(ek.load_dataset("dat.bcg"), "OR", ai="tpos", bi="tneg", ci="cpos", di="cneg")
    np.testing.assert_allclose(out[["yi", "vi"]].to_numpy()[:7], printed, atol=A4, rtol=0)


def test_bcg_pooled_log_odds_ratios_van_houwelingen_2002_text():
    """van Houwelingen, Arends & Stijnen (2002), Statistics in Medicine 21(4), 589-624, values in
    the text on the BCG log odds ratios computed above (all 13 trials), at the 3 decimals printed.
    Page locators as recorded by metafor's own check of this paper
    (github.com/wviechtb/metafor, tests/testthat/test_analysis_example_vanhouwelingen2002.r,
    read 2026-11-28; the article itself not read): equal-effects pooled OR 0.647 (0.595, 0.703),
    p. 596; ML random-effects OR 0.476 (0.336, 0.675) with tau^2 0.302, p. 597; the paper's
    mu +/- 1.96 tau interval (-1.820, 0.336), p. 599; ML meta-regression on absolute latitude,
    intercept 0.371 (SE 0.106), slope -0.033 (SE 0.003), tau^2 0.004, R^2 98.7%, pp. 608-609."""
    a3 = published_atol(3)
    es = ek.effect_sizes(ek.load_dataset("dat.bcg"), "OR", ai="tpos", bi="tneg", ci="cpos", di="cneg")
    ee = ek.meta_analysis(es, method="EE")
    np.testing.assert_allclose(np.exp([ee.estimate, ee.ci_lower]), [0.647, 0.595], atol=a3, rtol=0)
    # the article prints 0.703; exp(upper) = 0.70237 rounds to 0.702 (metafor's check notes the same)
    assert abs(np.exp(ee.ci_upper) - 0.703) < 0.001
    ml = ek.meta_analysis(es, method="ML")
    np.testing.assert_allclose(np.exp([ml.estimate, ml.ci_lower, ml.ci_upper]), [0.476, 0.336, 0.675],
                               atol=a3, rtol=0)
    assert ml.tau2 == pytest.approx(0.302, abs=a3)
    z975 = 1.959963984540054
    interval = ml.estimate + np.array([-1.0, 1.0]) * z975 * np.sqrt(ml.tau2)
    np.testing.assert_allclose(interval, [-1.820, 0.336], atol=a3, rtol=0)
    reg = ek.meta_analysis(es, method="ML", mods=["ablat"])
    np.testing.assert_allclose(reg.coefficients["estimate"], [0.371, -0.033], atol=a3, rtol=0)
    np.testing.assert_allclose(reg.coefficients["se"], [0.106, 0.003], atol=a3, rtol=0)
    assert reg.tau2 == pytest.approx(0.004, abs=a3)
    assert reg.r2 == pytest.approx(98.7, abs=published_atol(1))
