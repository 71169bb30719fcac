"""The living record of a review: the conclusions of each build, kept in a tracked file.

``evidence/conclusions.csv`` holds one row per published pooled estimate (its estimate, CI and
GRADE certainty) and one row per bottom line (question x outcome domain: the statement a reader
sees and its certainty). ``evidence-kit build`` rewrites it and reports what changed since the
version last committed to git (or, outside a git checkout, since the file as it was before the
build), so a fresh clone's first build says what moved since the last committed review.

The record also guards the rendered pages: every notebook the build executes is stamped with a
fingerprint of ``evidence/`` (:func:`evidence_fingerprint`), and a build that renders the committed
outputs without executing them refuses when a stamp disagrees with the evidence now on disk, so
the index (computed from ``evidence/``) never shows numbers the pages do not.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evidence_kit import review
from evidence_kit.review import certainty_table

RECORD = Path("evidence") / "conclusions.csv"
"""Where the record lives, relative to the project root."""

COLUMNS = ["key", "kind", "principle", "question", "outcome_domain", "metric", "estimate", "ci_lower",
           "ci_upper", "certainty", "statement"]
TRACKED = ["estimate", "ci_lower", "ci_upper", "certainty", "statement"]
"""The fields whose change is reported (the others say what a row is)."""

STAMP = "evidence_kit"
"""Notebook metadata key of the stamp: ``{"evidence_sha256": ...}``."""

_NOT_EVIDENCE = {"README.md", RECORD.name}  # prose, and the record itself (written by the build)


def evidence_fingerprint(evidence_dir: str | Path) -> str:
    """SHA-256 over every file of ``evidence_dir`` the notebooks read (names and bytes).

    The README and the record itself are left out: neither changes a number on a page.
    """
    folder = Path(evidence_dir)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel in _NOT_EVIDENCE or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        digest.update(rel.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def stamp(nb, fingerprint: str) -> None:
    """Record on an executed notebook which evidence it was executed on."""
    nb.metadata[STAMP] = {"evidence_sha256": fingerprint}


def stamp_of(nb) -> str | None:
    """The fingerprint a notebook was executed on, or ``None`` when it was not stamped."""
    return (nb.metadata.get(STAMP) or {}).get("evidence_sha256")


def conclusions(eb, lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """The conclusions a living review tracks, one row per estimate and per bottom line.

    Parameters
    ----------
    eb : the loaded evidence base (``ek.load_evidence``).
    lines : the bottom lines (``review.bottom_lines(eb)``); computed when not given.

    Returns
    -------
    DataFrame with :data:`COLUMNS`. ``kind`` is ``estimate`` (``key`` is the synthesis row id;
    estimate and CI as published; certainty the GRADE level where ``review.certainty_table``
    rates that row, else empty) or ``bottom line`` (``key`` is ``"<question> <outcome_domain>"``;
    the GRADE statement in words, its certainty, and the estimate it describes). Sorted by kind and key, so the file diffs cleanly.
    """
    syn = eb.syntheses
    if syn is not None and len(syn):
        rated = certainty_table(eb).drop_duplicates("id").set_index("id")["certainty"]
        est = syn.loc[:, ["id", "principle", "question", "outcome_domain", "metric", "estimate", "ci_lower",
                          "ci_upper"]].rename(columns={"id": "key"})
        est["kind"] = "estimate"
        est["certainty"] = est["key"].map(rated)
    else:
        est = pd.DataFrame(columns=COLUMNS)
    if lines is None:
        lines = review.bottom_lines(eb)
    bl = pd.DataFrame({
        "key": lines["question"].astype(str) + " " + lines["outcome_domain"].astype(str),
        "kind": "bottom line",
        "principle": lines["principle"],
        "question": lines["question"],
        "outcome_domain": lines["outcome_domain"],
        "certainty": lines["certainty"],
        "statement": lines["statement"],
    })
    for col in ("metric", "estimate", "ci_lower", "ci_upper"):  # the estimate the line describes
        if col in lines.columns:
            bl[col] = lines[col].to_numpy()
    out = pd.concat([est.reindex(columns=COLUMNS), bl.reindex(columns=COLUMNS)], ignore_index=True)
    for col in ("certainty", "statement"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out.sort_values(["kind", "key"], kind="stable").reset_index(drop=True)


def compare_conclusions(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Rows whose estimate, CI, certainty or statement changed, appeared or disappeared.

    Rows are matched on ``key`` (or on ``id``, the key of records written before bottom lines
    were tracked). Columns: key, change (``added``, ``removed`` or ``changed: <fields>``), and
    each tracked field before and now.
    """
    on = "key" if "key" in old.columns and "key" in new.columns else "id"
    keys = [k for k in TRACKED if k in old.columns or k in new.columns]
    old, new = old.copy(), new.copy()
    for frame in (old, new):
        for k in keys:
            if k not in frame.columns:  # a record written before a column existed
                frame[k] = pd.NA
    merged = old.merge(new, on=on, how="outer", suffixes=("_before", "_now"), indicator=True)
    rows = []
    for _, row in merged.iterrows():
        if row["_merge"] == "left_only":
            change = "removed"
        elif row["_merge"] == "right_only":
            change = "added"
        else:
            moved = [k for k in keys if _differs(row[f"{k}_before"], row[f"{k}_now"])]
            if not moved:
                continue
            change = "changed: " + ", ".join(moved)
        rows.append({"key": row[on], "change": change,
                     **{f"{k}_before": row[f"{k}_before"] for k in keys},
                     **{f"{k}_now": row[f"{k}_now"] for k in keys}})
    cols = ["key", "change"] + [f"{k}_{w}" for k in keys for w in ("before", "now")]
    return pd.DataFrame(rows).reindex(columns=cols) if rows else pd.DataFrame(columns=cols)


def _differs(a, b) -> bool:
    if _missing(a) and _missing(b):
        return False
    if _missing(a) or _missing(b):
        return True
    return a != b


def _missing(x) -> bool:
    return x is None or (not isinstance(x, str) and pd.isna(x)) or x == ""


@dataclass(frozen=True)
class Baseline:
    """The record a build compares with: its table and where it came from."""

    table: pd.DataFrame | None
    source: str
    """``committed`` (git HEAD), ``previous build`` (the file on disk) or ``none``."""
    label: str
    """How the index names it, e.g. "the review committed on 2026-12-07 (ec075bc)"."""


def baseline(root: str | Path) -> Baseline:
    """The record to compare a new build with: the version committed to git if there is one,
    else the file as it stands before the build overwrites it, else none."""
    root = Path(root)
    committed = _git(root, "show", f"HEAD:./{RECORD.as_posix()}")
    if committed is not None:
        when = (_git(root, "log", "-1", "--format=%cs %h", "--", RECORD.as_posix()) or "").split()
        label = (f"the review committed on {when[0]} ({when[1]})" if len(when) == 2
                 else "the last committed review")
        return Baseline(pd.read_csv(io.StringIO(committed)), "committed", label)
    path = root / RECORD
    if path.exists():
        return Baseline(pd.read_csv(path), "previous build", "the previous build")
    return Baseline(None, "none", "")


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def write_record(table: pd.DataFrame, path: str | Path) -> None:
    """Write the record (full precision; the same table always writes the same bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.reindex(columns=COLUMNS).to_csv(path, index=False, lineterminator="\n")
