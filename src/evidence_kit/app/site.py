"""Render the evidence review: execute every notebook and write a static, offline site.

``evidence-kit build`` (and ``make review``) runs :func:`build`. It executes ``notebooks/*.ipynb``
in order and writes one reader-view page per notebook (code folded under "Show code"), then the
index (what the evidence says per principle, the evidence and gap map, the notebooks, the CSV
downloads and what changed since the last committed review), the methods appendix and the API
reference. The HTML lives in Jinja templates (``templates/site/`` for the site's own pages,
``templates/reader/`` for the notebook pages, ``templates/pdoc/`` for the reference); nothing on
the pages is fetched from the network.

Every number on the index comes from ``evidence/`` through ``evidence_kit.review``, as the
notebooks' numbers do. A build that renders the committed outputs without executing them
(``execute=False``) therefore checks that each notebook was executed on the evidence now on disk
(:mod:`evidence_kit.app.record`) and refuses when it was not.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import nbformat
import pandas as pd
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from traitlets.config import Config

import evidence_kit
from evidence_kit import review
from evidence_kit.app import gapmap, record
from evidence_kit.app.apiref import render_api
from evidence_kit.app.methods import methods, unnamed_sources
from evidence_kit.app.record import RECORD, compare_conclusions, conclusions  # noqa: F401 (re-exported)
from evidence_kit.evidence import OUTCOME_DOMAINS, load_evidence

TEMPLATE_DIR = Path(__file__).parent / "templates"
SITE_TITLE = "Evidence review for the Ten-Year Roadmap for Healthy Schools"


class StaleOutputs(RuntimeError):
    """The committed notebook outputs were computed from other evidence than ``evidence/`` holds now."""


@dataclass(frozen=True)
class BuildReport:
    """What a build did: the pages written and the conclusions that changed."""

    site: Path
    pages: list[str]
    seconds: dict[str, float]
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    first_build: bool = False
    compared_with: str = ""
    unstamped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        lines = [f"Built {len(self.pages)} notebook pages and the index in {self.site}"]
        if self.first_build:
            lines.append("First build here: the conclusions are recorded for the next one to compare.")
        elif self.changes.empty:
            lines.append(f"No conclusion changed since {self.compared_with}.")
        else:
            lines.append(f"{len(self.changes)} conclusions changed since {self.compared_with}:")
            lines.append(self.changes[["key", "change"]].to_string(index=False))
        return "\n".join(lines)


# --- notebooks --------------------------------------------------------------------------------

def _kernel_config(ipc_dir: str | None) -> Config:
    """Kernel over local sockets (IPC) where the platform has them: no TCP port is opened, so the
    kernel does not warn that TCP traffic is unencrypted. Windows keeps TCP on localhost."""
    config = Config()
    if ipc_dir is not None and os.name == "posix":
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(Path(ipc_dir) / "kernel")
    return config


def execute_notebook(path: Path, *, timeout: int = 900):
    """Execute one notebook in its own folder and return the executed ``NotebookNode``."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # no timestamps: a re-executed notebook differs only where outputs moved
        cell.metadata.pop("execution", None)
    with tempfile.TemporaryDirectory(prefix="ek-") as ipc_dir:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
            config=_kernel_config(ipc_dir),
        )
        client.execute()
    return nb


def label_figures(nb) -> None:
    """Give every figure of an executed notebook a text alternative (``alt``) naming the section
    it illustrates, unless the output already carries one in its metadata."""
    heading, n = "", 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()
        elif cell.cell_type == "code":
            for out in cell.get("outputs", []):
                if "image/png" in out.get("data", {}):
                    n += 1
                    meta = out.setdefault("metadata", {})
                    if not meta.get("alt"):
                        meta["alt"] = f"Figure {n}" + (f", section {heading}" if heading else "")


def notebook_html(nb, title: str, *, built: str = "", version: str = evidence_kit.__version__,
                  api: bool = True) -> str:
    """Reader-view HTML for an executed notebook (offline: no external scripts)."""
    exporter = HTMLExporter(
        template_name="reader",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        extra_template_paths=[str(TEMPLATE_DIR)],  # so the reader view includes site/site.css
        embed_images=True,
    )
    nb.metadata["title"] = title
    label_figures(nb)
    body, _ = exporter.from_notebook_node(nb, resources={"ek": {"built": built, "version": version,
                                                                 "title": SITE_TITLE, "api": api}})
    return body


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def principle_pages(pages: list[str]) -> dict[str, str]:
    """Principle id -> its notebook page: ``01_*.html`` is P1, ... ``06_*.html`` is P6."""
    out = {}
    for name in pages:
        head = name.split("_", 1)[0]
        if head.isdigit() and 1 <= int(head) <= 9:
            out.setdefault(f"P{int(head)}", f"{name}.html")
    return out


# --- the site's own pages ---------------------------------------------------------------------

def environment() -> jinja2.Environment:
    """The Jinja environment of the site's pages (``templates/site/``), HTML autoescaped."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR / "site"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined)
    env.filters["capitalize_first"] = lambda text: str(text)[:1].upper() + str(text)[1:]
    return env


def _text(row: dict, key: str) -> str:
    value = row.get(key)
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def _line(row: dict, page: str = "") -> dict:
    """One bottom line as the index shows it: the GRADE statement, its size in words, the certainty
    and the source, with a link to the line on the principle's page."""
    level = gapmap._level(row.get("certainty"))
    anchor = _text(row, "anchor")
    return {"statement": _text(row, "statement"), "size": _text(row, "size"), "source": _text(row, "source"),
            "link": _text(row, "link"), "certainty": level, "symbols": gapmap.SYMBOLS.get(level, ""),
            "href": f"{page}#{anchor}" if page and anchor else page}


def _headline(lines: pd.DataFrame, page: str = "") -> tuple[dict | None, list[dict]]:
    """A principle's one sentence, and its other lines (in question order).

    The question-and-outcome line rated most certain; among equals, the one with the most
    syntheses, then the most studies.
    """
    if lines is None or not len(lines):
        return None, []
    frame = lines.reset_index(drop=True).copy()
    rank = {lv: i for i, lv in enumerate(gapmap.LEVELS)}
    frame["_rank"] = frame["certainty"].map(lambda v: rank.get(gapmap._level(v), len(rank)))
    for col, src in (("_n", "n_syntheses"), ("_k", "studies")):
        values = frame[src] if src in frame.columns else pd.Series(0, index=frame.index)
        frame[col] = -pd.to_numeric(values, errors="coerce").fillna(0)
    best = frame.sort_values(["_rank", "_n", "_k"], kind="stable").index[0]
    return (_line(frame.loc[best].to_dict(), page),
            [_line(r, page) for r in frame.drop(index=best).to_dict("records")])


def _gaps(eb, principle: str, page: str = "") -> list[dict]:
    gaps = review.gap_lines(eb, principle)
    if gaps is None or not len(gaps):
        return []
    out = []
    for r in gaps.to_dict("records"):
        anchor = _text(r, "anchor")
        out.append({"text": _text(r, "text") or _text(r, "statement"),
                    "href": f"{page}#{anchor}" if page and anchor else page})
    return out


def _certainty_counts(lines: pd.DataFrame) -> str:
    """"3 findings: 1 low, 2 very low certainty" (or "not rated")."""
    if lines is None or not len(lines):
        return ""
    levels = [gapmap._level(v) or "not rated" for v in lines["certainty"]]
    parts = [f"{levels.count(lv)} {lv}" for lv in (*gapmap.LEVELS, "not rated") if levels.count(lv)]
    n = len(levels)
    return f"{n} {'finding' if n == 1 else 'findings'} by question and outcome: " + ", ".join(parts)


def _fmt(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "none"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _change_rows(changes: pd.DataFrame) -> list[dict]:
    rows = []
    for r in changes.to_dict("records"):
        fields = [k for k in record.TRACKED if f"{k}_before" in r]
        if r["change"].startswith("changed: "):
            fields = [f.strip() for f in r["change"].removeprefix("changed: ").split(",")]
        before = "; ".join(f"{f} {_fmt(r.get(f'{f}_before'))}" for f in fields
                           if r["change"] != "added" and not record._missing(r.get(f"{f}_before")))
        now = "; ".join(f"{f} {_fmt(r.get(f'{f}_now'))}" for f in fields
                        if r["change"] != "removed" and not record._missing(r.get(f"{f}_now")))
        rows.append({"key": r["key"], "change": r["change"], "before": before or "(none)", "now": now or "(none)"})
    return rows


_DOWNLOADS = {
    "syntheses": "pooled estimates as printed in the published syntheses, with locators and links",
    "screening": "the screening ledger: every record looked at, its search string, date and decisions",
    "amstar2": "AMSTAR 2 answers for each review",
    "appraisals": "what each review reports on its studies' risk of bias, its own GRADE level and small-study test",
    "wwc": "study-level facts of trials for WWC ratings and ESSA tiers",
    "reproductions": "study rows behind a re-pooled estimate",
}


def _describe(rel: Path) -> str:
    folder = rel.parts[0] if len(rel.parts) > 1 else ""
    what = _DOWNLOADS.get(folder, "a table of the evidence base")
    return f"{what} ({rel.stem.replace('_', ' ')})"


def build(
    root: str | os.PathLike = ".",
    *,
    out: str | os.PathLike | None = None,
    execute: bool = True,
    timeout: int = 900,
    update_notebooks: bool = False,
    write_record: bool = True,
    api: bool = True,
    log: Callable[[str], None] | None = print,
) -> BuildReport:
    """Execute the notebooks under ``root/notebooks`` and write the site to ``root/_build/site``.

    Parameters
    ----------
    execute : run each notebook first (otherwise render the committed outputs, after checking
        that each was executed on the evidence now in ``evidence/``; :class:`StaleOutputs` if not).
    update_notebooks : write the executed notebooks back to ``notebooks/`` (maintainers do this
        before committing, so that the committed outputs are what the code computes today).
    write_record : write this build's conclusions to ``evidence/conclusions.csv`` (the living
        record); they are compared with the committed version either way.
    api : render the API reference (pdoc) into ``api/``.
    log : called with one progress line per step (``None`` for silence).
    """
    started = time.perf_counter()
    root = Path(root)
    site = Path(out) if out is not None else root / "_build" / "site"
    say = log or (lambda _msg: None)
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks found in {root / 'notebooks'}")
    evidence_dir = root / "evidence"
    fingerprint = record.evidence_fingerprint(evidence_dir) if evidence_dir.is_dir() else None

    unstamped: list[str] = []
    if not execute and fingerprint is not None:
        stale = []
        for path in notebooks:
            seen = record.stamp_of(nbformat.read(path, as_version=4))
            if seen is None:
                unstamped.append(path.name)
            elif seen != fingerprint:
                stale.append(path.name)
        if stale:
            raise StaleOutputs(
                f"evidence/ changed after {', '.join(stale)} {'was' if len(stale) == 1 else 'were'} executed, so "
                "their pages would show other numbers than the index. Run `evidence-kit build` to execute "
                "them (or `make notebooks` to update the committed outputs).")
        if unstamped:
            say(f"note: {len(unstamped)} notebooks carry no evidence stamp (executed outside `evidence-kit build`); "
                "`make notebooks` stamps them")

    built = dt.date.today().isoformat()
    version = evidence_kit.__version__
    site.mkdir(parents=True, exist_ok=True)
    (site / "data").mkdir(exist_ok=True)
    pages: list[tuple[str, str]] = []
    seconds: dict[str, float] = {}
    for i, path in enumerate(notebooks, 1):
        start = time.perf_counter()
        if execute:
            say(f"[{i}/{len(notebooks)}] executing {path.name} ...")
            nb = execute_notebook(path, timeout=timeout)
            if fingerprint is not None:
                record.stamp(nb, fingerprint)
            if update_notebooks:
                nbformat.write(nb, path)
        else:
            nb = nbformat.read(path, as_version=4)
        title = _title(nb, path.stem)
        (site / f"{path.stem}.html").write_text(notebook_html(nb, title, built=built, version=version, api=api),
                                                encoding="utf-8")
        seconds[path.name] = time.perf_counter() - start
        say(f"[{i}/{len(notebooks)}] {path.name}: {seconds[path.name]:.1f} s -> {path.stem}.html")
        pages.append((path.stem, title))

    env = environment()
    common = {"site_title": SITE_TITLE, "built": built, "version": version, "root": "", "api": api,
              "methods": evidence_dir.is_dir()}
    warnings: list[str] = []
    if api:
        start = time.perf_counter()
        modules, warnings = render_api(site / "api")
        (site / "api.html").write_text(env.get_template("api.html.j2").render(modules=modules, **common),
                                       encoding="utf-8")
        for w in warnings:
            say(f"API reference: {w}")
        say(f"API reference: {len(modules)} packages -> api.html, api/ ({time.perf_counter() - start:.1f} s)")

    changes, first, label = pd.DataFrame(), True, ""
    context = {"principles": [], "map": [], "domains": [], "legend": gapmap.legend(1), "n_rows": 0,
               "n_sources": 0, "n_questions": 0}
    downloads: list[dict] = []
    if evidence_dir.is_dir():
        eb = load_evidence(evidence_dir)
        unnamed = unnamed_sources(eb)
        if unnamed:
            raise ValueError(f"the methods appendix has no words for the search sources {unnamed}: add them "
                             "to evidence_kit.app.methods.SOURCE_WORDS")
        lines = review.bottom_lines(eb)
        gap_map = review.evidence_gap_map(eb)
        by_principle = principle_pages([p for p, _ in pages])
        titles = {f"{p}.html": t for p, t in pages}
        now = conclusions(eb, lines)
        base = record.baseline(root)
        if base.table is not None:
            changes, first, label = compare_conclusions(base.table, now), False, base.label
        if write_record:
            record.write_record(now, root / RECORD)
        for name, frame in (("conclusions.csv", now),
                            ("bottom_lines.csv", lines.drop(columns=[c for c in lines.columns if c.endswith("_html")])),
                            ("evidence_gap_map.csv", gap_map)):
            frame.to_csv(site / "data" / name, index=False, lineterminator="\n")
        downloads = [
            {"href": "data/conclusions.csv", "name": "conclusions.csv",
             "what": "the conclusions of this build: every pooled estimate and bottom line with its certainty "
                     "(the living record, evidence/conclusions.csv)", "summary": True},
            {"href": "data/bottom_lines.csv", "name": "bottom_lines.csv",
             "what": "one bottom line per question and outcome, as on the principle pages", "summary": True},
            {"href": "data/evidence_gap_map.csv", "name": "evidence_gap_map.csv",
             "what": "the evidence and gap map as a table", "summary": True},
        ]
        for csv in sorted(evidence_dir.glob("**/*.csv")):
            rel = csv.relative_to(evidence_dir)
            if rel == Path(RECORD.name):
                continue
            target = site / "data" / rel.as_posix().replace("/", "__")
            shutil.copyfile(csv, target)
            downloads.append({"href": f"data/{target.name}", "name": target.name, "what": _describe(rel),
                              "summary": False})

        principles = []
        for p in eb.principles.to_dict("records"):
            pid = p["id"]
            mine = lines.loc[lines["principle"].astype(str) == pid] if len(lines) else lines
            href = by_principle.get(pid, "")
            headline, rest = _headline(mine, href)
            principles.append({"id": pid, "number": pid.lstrip("P"), "short": p["short"], "href": href,
                               "page_title": titles.get(href, ""), "headline": headline, "lines": rest,
                               "counts": _certainty_counts(mine), "gaps": _gaps(eb, pid, href)})
        rows = gapmap.layout(gap_map, by_principle)
        shorts = dict(zip(eb.principles["id"], eb.principles["short"], strict=True))
        groups = []
        for pid in eb.principles["id"]:
            mine_rows = [r for r in rows if r.principle == pid]
            if mine_rows:
                groups.append({"id": pid, "short": shorts[pid], "href": by_principle.get(pid, ""), "rows": mine_rows})
        n_max = max((c.n_syntheses for r in rows for c in r.cells), default=1)
        context = {
            "principles": principles, "map": groups, "legend": gapmap.legend(n_max),
            "domains": [{"id": d, "label": gapmap.domain_label(d)} for d in OUTCOME_DOMAINS],
            "n_rows": len(eb.syntheses), "n_sources": int(eb.syntheses["citation_key"].nunique()),
            "n_questions": len(eb.questions),
        }
        m = methods(eb, lines)
        (site / "methods.html").write_text(
            env.get_template("methods.html.j2").render(m=m, n_questions=len(eb.questions), n_lines=len(lines),
                                                       **common),
            encoding="utf-8")

    notebooks_ctx = [{"href": f"{p}.html", "title": t} for p, t in pages]
    change_ctx = {"first": first, "label": label, "rows": _change_rows(changes) if not changes.empty else []}
    (site / "index.html").write_text(
        env.get_template("index.html.j2").render(notebooks=notebooks_ctx, downloads=downloads, changes=change_ctx,
                                                 **context, **common),
        encoding="utf-8")
    say(f"wrote {site / 'index.html'} ({time.perf_counter() - started:.1f} s in all)")
    report = BuildReport(site=site, pages=[p for p, _ in pages], seconds=seconds, changes=changes, first_build=first,
                         compared_with=label, unstamped=unstamped, warnings=warnings)
    say(repr(report))
    return report
