"""The PRISMA 2020 flow diagram (Page et al., 2021, BMJ 372:n71, Figure 1) drawn from
``ek.prisma_counts``: identification, screening and inclusion boxes with the coded reasons."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from evidence_kit.citations.prisma import PrismaCounts, prisma_counts

__all__ = ["prisma_diagram"]


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def prisma_diagram(counts: PrismaCounts, ax=None):
    """Draw the PRISMA 2020 flow diagram.

    Parameters
    ----------
    counts : PrismaCounts, or a ledger (DataFrame, CSV path, folder or list of CSVs)
        A ledger is counted first with :func:`prisma_counts`.
    ax : matplotlib Axes, optional
        Where to draw; a new 11 x 10 inch figure when ``None``.

    Returns
    -------
    matplotlib Axes
        Never calls ``plt.show()``.

    Notes
    -----
    Boxes and arrows as in the PRISMA 2020 flow diagram for new systematic reviews (Page et
    al. 2021, BMJ 372:n71, Figure 1), with the records-identified box split by PRISMA's
    identification routes (databases, registers, other methods) and by source. Every number
    drawn is also in ``counts.to_frame()``, so a notebook can print it as text.
    """

    if not isinstance(counts, PrismaCounts):
        counts = prisma_counts(counts)
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 10))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.axis("off")

    def box(x, y, w, h, text, face="white"):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="square,pad=0", fc=face, ec="black",
                                    lw=0.8))
        ax.text(x + 1.5, y + h - 1.5, text, va="top", ha="left", fontsize=7.5, wrap=True)

    def arrow(x0, y0, x1, y1):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "lw": 0.8})

    via_names = {"database": "Databases", "register": "Registers", "other": "Other methods"}
    boxes = "\n".join(f"  {via_names[v]} (n = {n})" for v, n in counts.identified_via.items())
    sources = "\n".join(f"    {_short(s)} (n = {n})" for s, n in list(counts.identified.items())[:6])
    if len(counts.identified) > 6:
        sources += f"\n    ... {len(counts.identified) - 6} more sources"
    sources = f"{boxes}\n  of which, by source:\n{sources}" if boxes else sources
    reasons = "\n".join(f"  {_short(r, 40)} (n = {n})" for r, n in list(counts.excluded_full_text.items())[:8])
    if len(counts.excluded_full_text) > 8:
        reasons += f"\n  ... {len(counts.excluded_full_text) - 8} more reasons"
    L, R, W = 14, 60, 38
    box(L, 73, W, 26, f"Records identified from (n = {counts.total_identified}):\n{sources}")
    box(R, 84, W, 12, f"Records removed before screening:\n  Duplicate records (n = {counts.duplicates_removed})")
    box(L, 62, W, 8, f"Records screened\n(n = {counts.screened})")
    box(R, 62, W, 8, f"Records excluded\n(n = {counts.excluded_screening})")
    box(L, 48, W, 8, f"Reports sought for retrieval\n(n = {counts.sought})")
    box(R, 48, W, 8, f"Reports not retrieved\n(n = {counts.not_retrieved})")
    box(L, 34, W, 8, f"Reports assessed for eligibility\n(n = {counts.assessed})")
    box(R, 18, W, 24, f"Reports excluded (n = {sum(counts.excluded_full_text.values())}):\n{reasons}")
    box(L, 4, W, 8, f"Studies included in review\n(n = {counts.included})")
    for y0, y1 in ((73, 70), (62, 56), (48, 42), (34, 12)):
        arrow(L + W / 2, y0, L + W / 2, y1)
    for y, ry in ((88, 90), (66, 66), (52, 52), (38, 38)):
        arrow(L + W, y, R, ry)
    for y0, y1, label in ((72, 100, "Identification"), (14, 72, "Screening"), (0, 14, "Included")):
        ax.add_patch(FancyBboxPatch((0.5, y0 + 1), 6, y1 - y0 - 2, boxstyle="round,pad=0",
                                    fc="#cfe2f3", ec="none"))
        ax.text(3.5, (y0 + y1) / 2, label, rotation=90, ha="center", va="center", fontsize=8)
    ax.set_title("PRISMA 2020 flow diagram", fontsize=10)
    return ax
