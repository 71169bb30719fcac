"""Forest and funnel plots for meta-analysis results (metafor's ``forest()`` and ``funnel()``).

Both take ``ax=None`` (a new figure is made when None), draw, and return the Axes; they never
call ``plt.show()``. Numbers printed beside a forest plot are rounded for display only.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib import transforms
from matplotlib.patches import Polygon
from scipy import stats

from evidence_kit.synthesis.subgroup import SubgroupResult

RATIO_MEASURES = ("OR", "RR", "HR", "ROM", "IRR", "PETO", "PLN", "IRLN", "CVR", "VR", "MN_LOG")
_NICE_RATIOS = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10, 20, 50, 100])


def _axes(ax, height=None):
    if ax is None:
        _, ax = plt.subplots(figsize=(8, height or 5))
    return ax


def _log_ticks(ax, lo, hi):
    """Ticks at round ratios inside [exp(lo), exp(hi)], labelled on the ratio scale."""
    ratios = _NICE_RATIOS[(np.log(_NICE_RATIOS) >= lo) & (np.log(_NICE_RATIOS) <= hi)]
    if ratios.size > 7:
        ratios = ratios[np.isin(ratios, [0.01, 0.1, 0.5, 1, 2, 10, 100])]
    if ratios.size < 2:
        ratios = np.exp(np.linspace(lo, hi, 3))
    ax.set_xticks(np.log(ratios))
    ax.set_xticklabels([f"{r:g}" if r >= 0.01 else f"{r:.2g}" for r in ratios])


def _diamond(ax, y, est, lo, hi, color="black", height=0.35):
    ax.add_patch(Polygon([[lo, y], [est, y + height], [hi, y], [est, y - height]], closed=True,
                         facecolor=color, edgecolor=color, zorder=3))


def _study_rows(ax, y, yi, vi, weights, z, color):
    sei = np.sqrt(vi)
    lo, hi = yi - z * sei, yi + z * sei
    ax.hlines(y, lo, hi, color=color, linewidth=1, zorder=2)
    w = np.asarray(weights, dtype=float)
    size = 20 + 180 * w / w.max() if w.size and w.max() > 0 else np.full(yi.shape, 40.0)
    ax.scatter(yi, y, s=size, marker="s", color=color, zorder=3)  # square area proportional to weight
    return lo, hi


def _fmt_ci(est, lo, hi, transf, digits=2):
    f = transf if transf is not None else (lambda x: x)
    return f"{f(est):.{digits}f} [{f(lo):.{digits}f}, {f(hi):.{digits}f}]"


def forest_plot(result, ax=None, *, columns=None, log_scale=None, show_pi=True, xlabel=None, digits=2,
                color="black", refline=None):
    """Forest plot of a :class:`MetaResult` (or a :class:`SubgroupResult`).

    Parameters
    ----------
    result : MetaResult, MultilevelResult or SubgroupResult
        Studies (for a multilevel model, effects, weighted as metafor's ``weights()`` of an
        rma.mv model) are drawn as squares with area proportional to their weight and their
        confidence interval; the pooled estimate as a diamond, with the prediction interval as a
        bar under it (random-effects models). A SubgroupResult draws each group's studies and
        diamond under a heading, the overall diamond last, and the test for subgroup
        differences.
    ax : matplotlib Axes, optional
    columns : dict of str -> array-like, optional
        Extra text columns printed at the right, e.g. ``{"n": dat["ni"]}`` (one value per study
        fitted, in the order of ``result.slab``).
    log_scale : bool, optional
        Effects are on the log scale and the axis is labelled with back-transformed ratios
        (default: True when ``result.measure`` is a ratio measure such as "RR" or "OR").
    show_pi : bool
        Draw the prediction interval under the diamond.
    xlabel : str, optional
    digits : int
        Decimals of the printed estimates (display only).
    refline : float, optional
        Vertical reference line (default 0, i.e. a ratio of 1 on the log scale).

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Study intervals are y_i +- z_{1-alpha/2} sqrt(v_i); square areas are proportional to the model
    weights 100 w_i / sum(w) (Lewis & Clarke 2001, BMJ 322:1479). The diamond spans the pooled
    confidence interval, the bar below it the prediction interval of :meth:`MetaResult.predict`
    (Riley, Higgins & Deeks 2011, BMJ 342:d549). For a meta-regression only the studies are drawn.
    """
    base = result.overall if isinstance(result, SubgroupResult) else result
    if log_scale is None:
        log_scale = (base.measure or "").upper() in RATIO_MEASURES
    transf = np.exp if log_scale else None
    z = stats.norm.ppf(1 - (1 - base.level / 100) / 2)
    blocks = ([(str(g), r) for g, r in result.results.items()] if isinstance(result, SubgroupResult)
              else [(None, result)])
    n_rows = sum(r.k + (2 if name is not None else 0) for name, r in blocks) + 3
    ax = _axes(ax, height=max(3.0, 0.28 * n_rows + 1))
    text_tr = transforms.blended_transform_factory(ax.transAxes, ax.transData)
    y = n_rows
    labels, ypos = [], []
    xs_lo, xs_hi = [], []
    extra = {name: np.asarray(vals, dtype=object) for name, vals in (columns or {}).items()}
    ncol = len(extra)
    offset = 0
    for name, res in blocks:
        if name is not None:
            y -= 1
            labels.append(name)
            ypos.append(y)
        rows = y - 1 - np.arange(res.k)
        lo, hi = _study_rows(ax, rows, res.yi, res.vi, res.weights, z, color)
        xs_lo.append(lo)
        xs_hi.append(hi)
        labels.extend(str(s) for s in res.slab)
        ypos.extend(rows)
        for yy, yi, a, b, w in zip(rows, res.yi, lo, hi, res.weights, strict=True):
            ax.text(1.02 + 0.12 * ncol, yy, _fmt_ci(yi, a, b, transf, digits), transform=text_tr, va="center",
                    fontsize=8)
            ax.text(1.02 + 0.12 * ncol + 0.30, yy, f"{w:.1f}%", transform=text_tr, va="center", fontsize=8)
        for j, (_cname, vals) in enumerate(extra.items()):
            for yy, val in zip(rows, vals[offset:offset + res.k], strict=True):
                ax.text(1.02 + 0.12 * j, yy, str(val), transform=text_tr, va="center", fontsize=8)
        offset += res.k
        y = rows[-1] - 1 if res.k else y - 1
        if res.p == 1:
            y -= 0.2 if name is None else 0
            _pooled_row(ax, y, res, name, transf, digits, show_pi, text_tr, ncol, labels, ypos, xs_lo, xs_hi)
            y -= 1
    if isinstance(result, SubgroupResult):
        y -= 0.5
        _pooled_row(ax, y, result.overall, "Overall", transf, digits, show_pi, text_tr, ncol, labels, ypos,
                    xs_lo, xs_hi)
        ax.text(0.0, y - 1.3, f"Test for subgroup differences: Q = {result.q_between:.2f}, "
                f"df = {result.q_between_df}, p = {result.q_between_pvalue:.3g}", transform=text_tr,
                fontsize=8, va="center")
        y -= 1.3
    ax.set_yticks(ypos)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_ylim(y - 0.8, n_rows + 0.2)
    lo_all, hi_all = np.nanmin(np.concatenate(xs_lo)), np.nanmax(np.concatenate(xs_hi))
    pad = 0.05 * (hi_all - lo_all or 1.0)
    ax.set_xlim(min(lo_all, 0.0 if refline is None else refline) - pad, max(hi_all, 0.0 if refline is None else refline) + pad)
    ax.axvline(0.0 if refline is None else refline, color="grey", linewidth=0.8, linestyle="--", zorder=1)
    if log_scale:
        _log_ticks(ax, *ax.get_xlim())
    for j, cname in enumerate(extra):
        ax.text(1.02 + 0.12 * j, n_rows, cname, transform=text_tr, va="center", fontsize=8, fontweight="bold")
    ax.text(1.02 + 0.12 * ncol, n_rows, f"Estimate [{base.level:g}% CI]", transform=text_tr, va="center",
            fontsize=8, fontweight="bold")
    ax.text(1.02 + 0.12 * ncol + 0.30, n_rows, "Weight", transform=text_tr, va="center", fontsize=8,
            fontweight="bold")
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    measure = base.measure or "Effect"
    ax.set_xlabel(xlabel or (f"{measure} (log scale)" if log_scale else measure))
    return ax


def _pooled_row(ax, y, res, name, transf, digits, show_pi, text_tr, ncol, labels, ypos, xs_lo, xs_hi):
    _diamond(ax, y, res.estimate, res.ci_lower, res.ci_upper)
    label = ("EE model" if res.method == "EE" else "RE model") if name is None else f"{name}: pooled"
    labels.append(label)
    ypos.append(y)
    ax.text(1.02 + 0.12 * ncol, y, _fmt_ci(res.estimate, res.ci_lower, res.ci_upper, transf, digits),
            transform=text_tr, va="center", fontsize=8, fontweight="bold")
    if show_pi and res.method != "EE" and res.k > 1:
        pred = res.predict()
        lo, hi = float(pred["pi_lower"].iloc[0]), float(pred["pi_upper"].iloc[0])
        ax.hlines(y - 0.45, lo, hi, color="black", linewidth=1.2, zorder=2)
        ax.vlines([lo, hi], y - 0.6, y - 0.3, color="black", linewidth=1.2, zorder=2)
        xs_lo.append(np.array([lo]))
        xs_hi.append(np.array([hi]))


def funnel_plot(result, ax=None, *, contour=False, levels=(90, 95, 99), log_scale=None, xlabel=None):
    """Funnel plot: effect sizes (residuals for a meta-regression) against their standard error.

    Parameters
    ----------
    result : MetaResult or MultilevelResult (or a subclass such as the trim-and-fill result;
        studies where ``result.filled`` is true are drawn as open circles)
    ax : matplotlib Axes, optional
    contour : bool
        Contour-enhanced funnel (Peters et al. 2008, J Clin Epidemiol 61:991): regions bounded
        by the contours where a study would be significant at 1 - level/100, centred on 0, each
        shaded differently (white for p above the largest alpha, as metafor) with a legend entry,
        including the region beyond the widest contour.
    levels : sequence of float
        Confidence levels (percent) of the contours.
    log_scale : bool, optional
        Label the x axis with back-transformed ratios (default for ratio measures).

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The pseudo confidence region is estimate +- z_{0.975} se for se from 0 to max(se)
    (Sterne & Egger 2001, J Clin Epidemiol 54:1046); the y axis is inverted (precise studies on top).
    """
    ax = _axes(ax)
    sei = np.sqrt(result.vi)
    if result.p > 1:
        x = result.yi - result.X @ result.coefficients["estimate"].to_numpy()
        centre = 0.0
    else:
        x = result.yi
        centre = result.estimate
    se_max = sei.max() * 1.05 if sei.size else 1.0
    se_grid = np.linspace(0, se_max, 100)
    contour_z = []
    if contour:
        # one shade per region between significance contours centred on 0, and one for the
        # region beyond the widest contour (p below the smallest alpha), each with a legend entry;
        # metafor's funnel(level = c(90, 95, 99), shade = c("white", "gray55", "gray75")) on its
        # "lightgray" background, from the innermost region (p > .10, white) outwards
        ordered = sorted(levels)  # innermost (lowest level, largest p) first
        alphas = [1 - lev / 100 for lev in ordered]
        contour_z = [stats.norm.ppf(1 - a / 2) for a in alphas]
        shades = _contour_shades(len(ordered))
        span = max(contour_z) * se_max * 1.1
        edges = [(-zc * se_grid, zc * se_grid) for zc in contour_z]
        # draw from the outside in, so each inner region covers the middle of the one outside it
        ax.fill_betweenx(se_grid, -span * 10, span * 10, color=shades[-1], zorder=0, linewidth=0,
                         label=f"p < {alphas[-1]:g}")
        for i in range(len(ordered) - 1, -1, -1):
            lo, hi = edges[i]
            label = f"p > {alphas[0]:g}" if i == 0 else f"{alphas[i]:g} < p < {alphas[i - 1]:g}"
            ax.fill_betweenx(se_grid, lo, hi, color=shades[i], zorder=0, linewidth=0, label=label)
    z = stats.norm.ppf(1 - (1 - result.level / 100) / 2)
    ax.plot(centre - z * se_grid, se_grid, color="black", linestyle=":", linewidth=1)
    ax.plot(centre + z * se_grid, se_grid, color="black", linestyle=":", linewidth=1)
    ax.axvline(centre, color="black", linewidth=1)
    filled = getattr(result, "filled", None)
    filled = np.zeros(x.shape, dtype=bool) if filled is None else np.asarray(filled, dtype=bool)
    ax.scatter(x[~filled], sei[~filled], color="black", s=25, zorder=3, label="studies")
    if filled.any():
        ax.scatter(x[filled], sei[filled], facecolors="white", edgecolors="black", s=25, zorder=3,
                   label="filled studies")
    span = max(np.abs(x - centre).max() if x.size else 1.0, z * se_max) * 1.1
    zmax = max(contour_z) if contour_z else z
    ax.set_xlim(centre - span, centre + span) if not contour else ax.set_xlim(
        min(centre - span, -zmax * se_max * 1.1), max(centre + span, zmax * se_max * 1.1))
    ax.set_ylim(se_max, 0)
    ax.set_ylabel("Standard error")
    if log_scale is None:
        log_scale = (result.measure or "").upper() in RATIO_MEASURES
    if log_scale and result.p == 1:
        _log_ticks(ax, *ax.get_xlim())
    measure = result.measure or "Effect"
    ax.set_xlabel(xlabel or ("Residual" if result.p > 1 else (f"{measure} (log scale)" if log_scale else measure)))
    if contour or filled.any():  # say what the shading and the open circles mean
        handles, names = ax.get_legend_handles_labels()
        for h in handles:  # the white region needs an edge to be seen in the legend
            if hasattr(h, "set_edgecolor") and h.get_label() not in ("studies", "filled studies"):
                h.set_edgecolor("0.3")
                h.set_linewidth(0.5)
        ax.legend(handles, names, loc="lower right", fontsize="small", frameon=True, framealpha=0.9)
    return ax


def _contour_shades(n: int) -> list[str]:
    """Grey levels for n contour regions plus the outer one: white innermost, then darker to
    lighter greys as metafor (white, gray55, gray75, and its lightgray background beyond)."""
    if n == 3:
        return ["1.0", "0.55", "0.75", "0.83"]
    inner = np.linspace(0.55, 0.75, max(n - 1, 1)).tolist() if n > 1 else []
    return ["1.0"] + [f"{g:.3f}" for g in inner][: n - 1] + ["0.83"]
