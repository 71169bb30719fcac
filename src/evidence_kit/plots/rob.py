"""robvis-style risk-of-bias plots: traffic-light grid and weighted summary bars.

Notes
-----
Layout after robvis (McGuinness LA, Higgins JPT. Risk-of-bias VISualization (robvis). Res Syn
Meth 2021;12:55-61). Colours are from the Okabe-Ito colour-blind-safe palette (Okabe M, Ito K.
Color Universal Design, 2008), and every judgement also carries a symbol (+, -, x, !, ?) so the
plots read in greyscale too.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from evidence_kit.certainty.rob import RobAssessment, _select, rob_summary_table

# Okabe-Ito: bluish green, yellow, vermillion, reddish purple, grey; orange for "some concerns".
PALETTE = {
    "Low": "#009E73",
    "Some concerns": "#F0E442",
    "Moderate": "#F0E442",
    "Unclear": "#F0E442",
    "High": "#D55E00",
    "Serious": "#D55E00",
    "Critical": "#CC79A7",
    "No information": "#BBBBBB",
}
SYMBOLS = {"Low": "+", "Some concerns": "-", "Moderate": "-", "Unclear": "?", "High": "x",
           "Serious": "x", "Critical": "!", "No information": "?"}


def rob_traffic_light(
    assessments: RobAssessment,
    ax=None,
    *,
    studies: Sequence[str] | None = None,
    outcome: str | None = None,
    show_overall: bool = True,
):
    """Traffic-light plot: one row per study, one coloured, labelled dot per domain.

    Parameters
    ----------
    assessments : RobAssessment
    ax : matplotlib Axes, optional
        Drawn on a new figure when None.
    studies : list of str, optional
        Plot only these studies, in this order.
    outcome : str, optional
        Use the judgements for this outcome (study-level rows where none is outcome-specific).
    show_overall : bool
        Add the overall judgement as the last column.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    robvis traffic-light layout (McGuinness & Higgins 2021); colours and symbols in
    :data:`PALETTE` and :data:`SYMBOLS`.
    """

    sel = _select(assessments, studies, outcome)
    t = sel.table
    cols = list(sel.domains) + (["overall"] if show_overall else [])
    labels = list(sel.domains) + (["Overall"] if show_overall else [])
    n, m = len(t), len(cols)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 + 0.6 * m, 0.9 + 0.4 * n))
    values = t[cols].to_numpy(dtype=object)
    yy, xx = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    colours = np.vectorize(PALETTE.__getitem__, otypes=[object])(values).ravel()
    ax.scatter(xx.ravel(), yy.ravel(), s=380, c=list(colours), edgecolors="black", linewidths=0.6, zorder=2)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, SYMBOLS[v], ha="center", va="center", fontsize=10, fontweight="bold", zorder=3)
    ax.set_xticks(range(m), labels)
    ax.xaxis.tick_top()
    ax.set_yticks(range(n), [str(s) + ("" if o is None else f" ({o})") for s, o in zip(t["study"], t["outcome"], strict=True)])
    ax.set_xlim(-0.6, m - 0.4)
    ax.set_ylim(n - 0.5, -0.5)
    if show_overall:
        ax.axvline(m - 1.5, color="grey", linewidth=0.8)
    ax.set_frame_on(False)
    ax.tick_params(length=0)
    used = [lab for lab in sel.labels if lab in set(values.ravel())]
    handles = [Line2D([], [], marker="o", linestyle="", markersize=10, markerfacecolor=PALETTE[lab],
                      markeredgecolor="black", label=f"{SYMBOLS[lab]} {lab}") for lab in used]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, title="Judgement")
    names = "; ".join(f"{c}: {sel.domain_names.get(c, c)}" for c in sel.domains)
    ax.set_xlabel(names, fontsize=7, wrap=True)
    return ax


def rob_summary_plot(
    assessments: RobAssessment,
    ax=None,
    *,
    weights: pd.Series | dict | None = None,
    studies: Sequence[str] | None = None,
    outcome: str | None = None,
    show_overall: bool = True,
):
    """Summary bars: per domain, the share of studies (or of weight) at each judgement.

    Parameters
    ----------
    assessments : RobAssessment
    ax : matplotlib Axes, optional
    weights : Series, dict or meta-analysis result, optional
        Weight per study, or a result whose ``weights`` and ``slab`` give them; bars then show
        the share of the total weight, as robvis does with ``weighted=TRUE``. Every plotted study
        needs a weight (a missing one raises, naming it).
    studies, outcome, show_overall
        As for :func:`rob_traffic_light`.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The share for judgement j in domain d is sum_i w_i [J_id = j] / sum_i w_i, with w_i = 1 when
    no weights are given (robvis ``rob_summary``, McGuinness & Higgins 2021).
    """

    table = rob_summary_table(assessments, weights=weights, studies=studies, outcome=outcome,
                              show_overall=show_overall)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.9 + 0.45 * len(table)))
    left = np.zeros(len(table))
    y = np.arange(len(table))
    for lab in table.columns:
        share = table[lab].to_numpy()
        if not share.any():
            continue
        ax.barh(y, share * 100, left=left, color=PALETTE[lab], edgecolor="black", linewidth=0.5,
                label=f"{SYMBOLS[lab]} {lab}")
        left += share * 100
    ax.set_yticks(y, list(table.index))
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of " + ("weight" if weights is not None else "studies") + " (%)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, title="Judgement")
    return ax
