"""forest_plot and funnel_plot: they draw what they promise, return the Axes, never show."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402
from test_synthesis_metafor import frame  # noqa: E402

import evidence_kit as ek  # noqa: E402
from evidence_kit.synthesis import MetaResult  # noqa: E402


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("plots must not call plt.show()")

    monkeypatch.setattr(plt, "show", fail)
    yield
    plt.close("all")


@pytest.fixture
def bcg():
    d = frame("bcg")
    d.index = [f"Study {i + 1}" for i in range(len(d))]
    return d


def test_forest_plot_draws_studies_diamond_and_pi(bcg):
    res = ek.meta_analysis(bcg, measure="RR")
    _, ax = plt.subplots()
    out = ek.forest_plot(res, ax=ax, columns={"ablat": bcg["ablat"]})
    assert out is ax
    squares = ax.collections[1]  # hlines (CIs) first, then the squares
    assert squares.get_offsets().shape == (13, 2)
    sizes = squares.get_sizes()
    assert np.argmax(sizes) == np.argmax(res.weights)  # area follows the weight
    diamonds = [p for p in ax.patches if isinstance(p, Polygon)]
    assert len(diamonds) == 1
    xy = diamonds[0].get_xy()
    assert xy[:, 0].min() == pytest.approx(res.ci_lower) and xy[:, 0].max() == pytest.approx(res.ci_upper)
    pred = res.predict()
    segs = np.concatenate([c.get_segments() for c in ax.collections if hasattr(c, "get_segments")])
    assert any(np.allclose(sorted(s[:, 0]), [pred.pi_lower[0], pred.pi_upper[0]]) for s in segs)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["Study 1", "Study 2"] and labels[-1] == "RE model"
    texts = [t.get_text() for t in ax.texts]
    assert "ablat" in texts and "44" in texts
    # ratio measure: log axis with back-transformed labels
    ticks = dict(zip([t.get_text() for t in ax.get_xticklabels()], ax.get_xticks(), strict=True))
    assert ticks["1"] == pytest.approx(0.0) and ticks["0.5"] == pytest.approx(np.log(0.5))
    assert f"{np.exp(res.estimate):.2f} [{np.exp(res.ci_lower):.2f}, {np.exp(res.ci_upper):.2f}]" in texts


def test_forest_plot_linear_scale_and_new_axes():
    res = ek.meta_analysis(frame("raudenbush1985"), method="EE")
    ax = ek.forest_plot(res)
    assert isinstance(ax, plt.Axes)
    assert ax.get_xlabel() == "Effect"  # no measure given: linear axis, numbers as they are
    assert "0.06 [-0.01, 0.13]" in [t.get_text() for t in ax.texts]
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "EE model"


def test_forest_plot_subgroups(bcg):
    sub = ek.subgroup_analysis(bcg, by="alloc")
    ax = ek.forest_plot(sub)
    diamonds = [p for p in ax.patches if isinstance(p, Polygon)]
    assert len(diamonds) == 4  # three groups and overall
    labels = [t.get_text() for t in ax.get_yticklabels()]
    for g in ("alternate", "random", "systematic", "Overall: pooled"):
        assert g in labels
    assert any("Test for subgroup differences" in t.get_text() for t in ax.texts)


def test_funnel_plot_marks_filled_studies_open(bcg):
    res = ek.meta_analysis(bcg, measure="RR")

    @dataclasses.dataclass(frozen=True, eq=False, repr=False)
    class Filled(MetaResult):
        filled: np.ndarray = None

    flags = np.zeros(res.k, dtype=bool)
    flags[:3] = True
    fake = Filled(**{f.name: getattr(res, f.name) for f in dataclasses.fields(MetaResult)}, filled=flags)
    ax = ek.funnel_plot(fake)
    pts = [c for c in ax.collections if c.get_offsets().shape[0] > 0 and c.get_offsets().shape[1] == 2]
    open_ = [c for c in pts if np.allclose(c.get_facecolors()[0][:3], 1.0)]
    assert len(open_) == 1 and open_[0].get_offsets().shape[0] == 3
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # precise studies at the top


def test_funnel_plot_contours_and_regression():
    res = ek.meta_analysis(frame("bcg"), measure="RR")
    _, ax = plt.subplots()
    assert ek.funnel_plot(res, ax=ax, contour=True) is ax
    bands = [c for c in ax.collections if c.get_label().startswith(("p >", "p <", "0."))]
    assert len(bands) == 4  # three contours bound four regions, each shaded (tests/test_multilevel_tools.py)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]  # the shading is explained
    assert [b.get_label() for b in bands] == [t for t in legend if t != "studies"]
    assert ek.funnel_plot(res).get_legend() is None  # a plain funnel needs no legend
    reg = ek.meta_analysis(frame("bcg"), mods=["ablat"])
    ax2 = ek.funnel_plot(reg)
    assert ax2.get_xlabel() == "Residual"


def test_forest_plot_meta_regression_and_single_study():
    reg = ek.meta_analysis(frame("bcg"), mods=["ablat"])
    ax = ek.forest_plot(reg)
    assert not [p for p in ax.patches if isinstance(p, Polygon)]  # no pooled diamond under moderators
    assert len(ax.get_yticklabels()) == 13
    one = ek.meta_analysis(None, [0.5], [0.04])
    ax1 = ek.forest_plot(one)
    assert len([p for p in ax1.patches if isinstance(p, Polygon)]) == 1
    assert ek.funnel_plot(one).get_ylim()[1] == 0


def test_funnel_plot_of_the_trim_and_fill_result():
    """Integration with bias.trim_and_fill: the imputed studies are the open circles."""
    res = ek.meta_analysis(frame("bcg"))
    filled = ek.trim_and_fill(res)
    ax = ek.funnel_plot(filled)
    open_ = [c for c in ax.collections if c.get_offsets().shape[0] and np.allclose(c.get_facecolors()[0][:3], 1.0)]
    assert len(open_) == 1 and open_[0].get_offsets().shape[0] == int(np.sum(filled.filled)) == filled.k0 > 0
