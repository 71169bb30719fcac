"""Render the evidence review: execute every notebook and write a static, offline site.

``evidence-kit build`` (and ``make review``) runs :func:`build`: it executes ``notebooks/*.ipynb``
in order, writes one reader-view HTML page per notebook (code folded under "Show code"), an index
page with the evidence map and one summary row per principle, the underlying tables as CSV
downloads, and a list of the conclusions that changed since the previous build. Nothing on the
pages is fetched from the network.
"""

from __future__ import annotations

import html
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pandas as pd
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from evidence_kit.evidence import load_evidence
from evidence_kit.review import certainty_table

TEMPLATE_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class BuildReport:
    """What a build did: the pages written and the conclusions that changed."""

    site: Path
    pages: list[str]
    seconds: dict[str, float]
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    first_build: bool = False

    def __repr__(self) -> str:
        lines = [f"Built {len(self.pages)} pages in {self.site}"]
        if self.first_build:
            lines.append("First build here: the conclusions are recorded for the next one to compare.")
        elif self.changes.empty:
            lines.append("No conclusion changed since the previous build.")
        else:
            lines.append(f"{len(self.changes)} conclusions changed since the previous build:")
            lines.append(self.changes.to_string(index=False))
        return "\n".join(lines)


def execute_notebook(path: Path, *, timeout: int = 900):
    """Execute one notebook in its own folder and return the executed ``NotebookNode``."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # no timestamps: a re-executed notebook differs only where outputs moved
        cell.metadata.pop("execution", None)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb


def notebook_html(nb, title: str) -> str:
    """Reader-view HTML for an executed notebook (offline: no external scripts)."""
    exporter = HTMLExporter(
        template_name="reader",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        embed_images=True,
    )
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb)
    return body


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def conclusions(evidence) -> pd.DataFrame:
    """The conclusions a living review tracks: one row per published pooled estimate.

    Columns: id, principle, question, outcome_domain, metric, estimate, ci_lower, ci_upper (as
    published) and certainty (the GRADE level where ``review.certainty_table`` rates that row,
    else empty). A later build compares this table with the previous one
    (:func:`compare_conclusions`).
    """
    cols = ["id", "principle", "question", "outcome_domain", "metric", "estimate", "ci_lower", "ci_upper"]
    syn = evidence.syntheses
    if syn is None or len(syn) == 0:
        return pd.DataFrame(columns=cols + ["certainty"])
    rated = certainty_table(evidence).drop_duplicates("id").set_index("id")["certainty"]
    out = syn.loc[:, cols].sort_values("id").reset_index(drop=True)
    out["certainty"] = out["id"].map(rated)
    return out


def compare_conclusions(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Rows whose estimate, CI or certainty changed, appeared or disappeared between two builds."""
    keys = ["estimate", "ci_lower", "ci_upper", "certainty"]
    for frame in (old, new):
        for k in keys:
            if k not in frame.columns:  # a table written before a column existed
                frame[k] = pd.NA
    merged = old.merge(new, on="id", how="outer", suffixes=("_before", "_now"), indicator=True)
    rows = []
    for _, row in merged.iterrows():
        if row["_merge"] == "left_only":
            change = "removed"
        elif row["_merge"] == "right_only":
            change = "added"
        else:
            moved = [
                k for k in keys
                if not (pd.isna(row[f"{k}_before"]) and pd.isna(row[f"{k}_now"]))
                and (pd.isna(row[f"{k}_before"]) or pd.isna(row[f"{k}_now"])
                     or row[f"{k}_before"] != row[f"{k}_now"])
            ]
            if not moved:
                continue
            change = "changed: " + ", ".join(moved)
        rows.append({
            "id": row["id"],
            "change": change,
            **{f"{k}_before": row.get(f"{k}_before") for k in keys},
            **{f"{k}_now": row.get(f"{k}_now") for k in keys},
        })
    return pd.DataFrame(rows)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<style>
 body {{ font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px;
        margin: 0 auto; padding: 1rem 1.5rem; color: #222; }}
 table {{ border-collapse: collapse; margin: 0.5rem 0 1.5rem; }}
 th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
 th {{ background: #f3f3f3; }}
 td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
 td.zero {{ color: #aaa; }}
 .note {{ color: #555; font-size: 13px; }}
</style></head>
<body>
{body}
</body></html>
"""


def _table(df: pd.DataFrame, *, numeric: bool = False) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [df.index.name or ""] + list(df.columns))
    rows = []
    for idx, row in df.iterrows():
        cells = [f"<th>{html.escape(str(idx))}</th>"]
        for value in row:
            if numeric:
                cls = "num zero" if value == 0 else "num"
                cells.append(f'<td class="{cls}">{html.escape(str(value))}</td>')
            else:
                cells.append(f"<td>{value}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def index_html(evidence, pages: list[tuple[str, str]], downloads: list[str], changes: pd.DataFrame) -> str:
    """The site's front page: evidence map, one row per principle, notebooks, downloads."""
    parts = ["<h1>Evidence review for the Ten-Year Roadmap for Healthy Schools</h1>"]
    parts.append(
        '<p class="note">Built by <code>evidence-kit build</code> from the committed notebooks and the '
        "evidence base. Every number on these pages is computed by the notebooks from the files in "
        "<code>evidence/</code>.</p>"
    )
    if evidence is not None:
        parts.append("<h2>Evidence map</h2>")
        parts.append('<p class="note">Published pooled estimates by principle and outcome domain.</p>')
        parts.append(_table(evidence.evidence_map(), numeric=True))
        parts.append("<h2>Principles</h2>")
        summary = principle_summary(evidence, dict(pages))
        parts.append(_table(summary))
    parts.append("<h2>Notebooks</h2><ul>")
    for name, title in pages:
        parts.append(f'<li><a href="{html.escape(name)}.html">{html.escape(title)}</a></li>')
    parts.append("</ul>")
    if downloads:
        parts.append("<h2>Data</h2><ul>")
        for d in downloads:
            parts.append(f'<li><a href="data/{html.escape(d)}" download>{html.escape(d)}</a></li>')
        parts.append("</ul>")
    parts.append("<h2>Changes since the previous build</h2>")
    if changes.empty:
        parts.append("<p>No conclusion changed.</p>")
    else:
        parts.append(changes.to_html(index=False, na_rep=""))
    return _PAGE.format(title="Evidence review", body="\n".join(parts))


def principle_summary(evidence, pages: dict[str, str]) -> pd.DataFrame:
    """One row per principle: its questions, sources and pooled estimates, and its notebook."""
    principles = evidence.principles.set_index("id")
    questions = evidence.questions
    syn = evidence.syntheses
    rows = {}
    for pid, p in principles.iterrows():
        mine = syn[syn["principle"].astype(str).str.split(";").apply(lambda ids, pid=pid: pid in [i.strip() for i in ids])]
        nb = next((n for n in pages if n[:2] == f"{int(pid[1:]):02d}"), None)
        link = f'<a href="{html.escape(nb)}.html">{html.escape(pages[nb])}</a>' if nb else "(no notebook yet)"
        rows[pid] = {
            "principle": html.escape(str(p["short"])),
            "questions": int((questions["principle"] == pid).sum()),
            "sources": int(mine["citation_key"].nunique()),
            "pooled estimates": len(mine),
            "notebook": link,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "id"
    return out


def build(
    root: str | os.PathLike = ".",
    *,
    out: str | os.PathLike | None = None,
    execute: bool = True,
    timeout: int = 900,
    update_notebooks: bool = False,
    log: Callable[[str], None] | None = print,
) -> BuildReport:
    """Execute the notebooks under ``root/notebooks`` and write the site to ``root/_build/site``.

    Parameters
    ----------
    execute : run each notebook first (otherwise render the committed outputs).
    update_notebooks : write the executed notebooks back to ``notebooks/`` (maintainers do this
        before committing, so that the committed outputs are what the code computes today).
    log : called with one progress line per step (``None`` for silence).
    """
    root = Path(root)
    site = Path(out) if out is not None else root / "_build" / "site"
    say = log or (lambda _msg: None)
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks found in {root / 'notebooks'}")
    site.mkdir(parents=True, exist_ok=True)
    (site / "data").mkdir(exist_ok=True)

    pages: list[tuple[str, str]] = []
    seconds: dict[str, float] = {}
    for i, path in enumerate(notebooks, 1):
        start = time.perf_counter()
        if execute:
            say(f"[{i}/{len(notebooks)}] executing {path.name} ...")
            nb = execute_notebook(path, timeout=timeout)
            if update_notebooks:
                nbformat.write(nb, path)
        else:
            nb = nbformat.read(path, as_version=4)
        title = _title(nb, path.stem)
        (site / f"{path.stem}.html").write_text(notebook_html(nb, title), encoding="utf-8")
        seconds[path.name] = time.perf_counter() - start
        say(f"[{i}/{len(notebooks)}] {path.name}: {seconds[path.name]:.1f} s -> {path.stem}.html")
        pages.append((path.stem, title))

    evidence, downloads, changes, first = None, [], pd.DataFrame(), True
    evidence_dir = root / "evidence"
    if evidence_dir.is_dir():
        evidence = load_evidence(evidence_dir)
        for csv in sorted(evidence_dir.glob("**/*.csv")):
            target = site / "data" / csv.relative_to(evidence_dir).as_posix().replace("/", "__")
            shutil.copyfile(csv, target)
            downloads.append(target.name)
        now = conclusions(evidence)
        previous = site / "data" / "conclusions.csv"
        if previous.exists():
            changes, first = compare_conclusions(pd.read_csv(previous), now), False
        now.to_csv(previous, index=False)
        downloads.append("conclusions.csv")
    (site / "index.html").write_text(index_html(evidence, pages, downloads, changes), encoding="utf-8")
    say(f"wrote {site / 'index.html'}")
    report = BuildReport(site=site, pages=[p for p, _ in pages], seconds=seconds, changes=changes,
                         first_build=first)
    say(repr(report))
    return report
