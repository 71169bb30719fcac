"""profile_plot: draws the profile likelihood it computes, takes ax= and returns it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

import evidence_kit as ek  # noqa: E402
from evidence_kit.plots.profile import profile_plot  # noqa: E402
from evidence_kit.synthesis.multilevel import multilevel_meta_analysis  # noqa: E402


def test_profile_plot_univariate_and_multilevel():
    dat = ek.load_dataset("dat.konstantopoulos2011")
    uni = ek.meta_analysis(dat, method="REML")
    fig, axes = plt.subplots(1, 2)
    out = profile_plot(uni, ax=axes[0], steps=9)
    assert out is axes[0]
    x, y = out.lines[0].get_data()
    np.testing.assert_allclose(y, uni.profile(values=x)["ll"], rtol=1e-12)
    assert out.get_xlabel() == "tau^2"
    ml = multilevel_meta_analysis(dat, levels=["district", "school"])
    out = profile_plot(ml, "school", ax=axes[1], steps=6, xlim=(0.0, 0.1))
    x, y = out.lines[0].get_data()
    np.testing.assert_allclose(x, np.linspace(0, 0.1, 6))
    assert np.nanmax(y) <= ml.ll + 1e-9  # no point beats the optimum
    cut = out.lines[-1].get_ydata()[0]
    assert abs(cut - (ml.ll - 3.841458820694124 / 2)) < 1e-9  # chi^2_{1, 0.95} / 2
    plt.close(fig)


def test_profile_plot_makes_axes():
    uni = ek.meta_analysis(ek.load_dataset("dat.bcg").assign(
        yi=lambda d: np.log(d.tpos / (d.tpos + d.tneg)) - np.log(d.cpos / (d.cpos + d.cneg)),
        vi=lambda d: 1 / d.tpos - 1 / (d.tpos + d.tneg) + 1 / d.cpos - 1 / (d.cpos + d.cneg)),
        method="ML")
    ax = profile_plot(uni, steps=5)
    assert ax.get_ylabel() == "Log-likelihood"
    plt.close(ax.figure)
