"""Read and check ``reproductions*.yaml`` and ``reproductions/*.csv``: the per-study rows behind a
published pooled estimate, copied as printed so the code can re-pool them beside it.

One YAML entry per reproduced estimate names the synthesis row, the CSV file, the measure
(metafor's escalc code of the raw columns, or GEN for printed estimates with a CI or SE) and the
tau^2 estimator the review used. Problems name the file, the entry (by synthesis id) or the
spreadsheet row, and the column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evidence_kit.data import datasets
from evidence_kit.evidence import _schema as S
from evidence_kit.evidence._problems import Problem
from evidence_kit.evidence._tables import _flag, _numbers
from evidence_kit.evidence._yaml import read_yaml

ENTRY_COLUMNS = [*S.REPRODUCTION_KEYS, "yaml"]


def read_reproductions(root: Path, syntheses: pd.DataFrame, problems: list[Problem]):
    """Return (entries, rows): one row per YAML entry, and every CSV row with its synthesis_id."""
    entries, frames = [], []
    ids = set(syntheses["id"])
    for path in sorted(root.glob("reproductions*.yaml")):
        rel = path.relative_to(root).as_posix()
        for item in read_yaml(path, root, "reproductions", problems):
            entry = {key: "" if item.get(key) is None else str(item.get(key)).strip() for key in S.REPRODUCTION_KEYS}
            escalc = item.get("escalc") or {}
            entry["escalc"] = dict(escalc) if isinstance(escalc, dict) else {}
            sid = entry["synthesis_id"] or "?"
            for key in sorted(set(item) - set(S.REPRODUCTION_KEYS)):
                problems.append(Problem(rel, sid, key, "unknown key (see evidence/README.md, reproductions)"))
            for key, required in S.REPRODUCTION_KEYS.items():
                if required and not entry[key]:
                    problems.append(Problem(rel, sid, key, "required value is empty"))
            if entry["synthesis_id"] and entry["synthesis_id"] not in ids:
                problems.append(Problem(rel, sid, "synthesis_id", f"{sid!r} is not an id in syntheses/*.csv"))
            measure = entry["measure"]
            if bool(entry["file"]) == bool(entry["dataset"]):
                problems.append(Problem(rel, sid, "file", "give either file (a CSV in reproductions/) or dataset "
                                                          "(a shipped dataset), not both or neither"))
            if entry["dataset"]:
                _check_dataset_entry(problems, rel, sid, entry, escalc)
            elif measure and measure not in S.REPRODUCTION_INPUTS:
                problems.append(Problem(rel, sid, "measure", f"unknown measure {measure!r}; expected one of "
                                                             f"{', '.join(S.REPRODUCTION_INPUTS)}"))
            if entry["extracted_by"] and entry["checked"] and \
                    entry["extracted_by"].split()[0].lower() == entry["checked"].split()[0].lower():
                problems.append(Problem(rel, sid, "checked", "the check must be an independent read by someone "
                                                             "other than the extractor"))
            entry["yaml"] = rel
            entries.append(entry)
            frame = _read_rows(root, entry, problems) if entry["file"] else None
            if frame is not None:
                frames.append(frame)
    seen = pd.Series([e["synthesis_id"] for e in entries], dtype=str)
    for sid in seen[seen.duplicated() & seen.ne("")].unique():
        problems.append(Problem("reproductions.yaml", sid, "synthesis_id", "reproduced more than once"))
    table = pd.DataFrame(entries, columns=ENTRY_COLUMNS)
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["file", "row", "synthesis_id", *S.REPRODUCTION_COLUMNS])
    return table, rows


def _check_dataset_entry(problems, rel, sid, entry, escalc) -> None:
    """A shipped dataset with the escalc arguments that give yi and vi, and a valid subset query."""
    name = entry["dataset"]
    if name not in datasets.list_datasets():
        problems.append(Problem(rel, sid, "dataset", f"{name!r} is not a shipped dataset"))
        return
    if not isinstance(escalc, dict):
        problems.append(Problem(rel, sid, "escalc", "escalc must map argument -> column"))
        return
    data = datasets.load_dataset(name)
    for arg, col in escalc.items():
        if arg != "measure" and str(col) not in data.columns:
            problems.append(Problem(rel, sid, "escalc", f"{arg}={col!r} is not a column of {name}"))
    if not escalc and not {"yi", "vi"} <= set(data.columns):
        problems.append(Problem(rel, sid, "escalc", f"{name} has no yi and vi; say how to compute them (escalc)"))
    if entry["subset"]:
        try:
            data.query(entry["subset"])
        except Exception as exc:  # pandas raises many kinds for a bad query
            problems.append(Problem(rel, sid, "subset", f"not a valid query on {name}: {exc}"))


def _read_rows(root: Path, entry: dict, problems: list[Problem]) -> pd.DataFrame | None:
    path = root / "reproductions" / entry["file"]
    rel = path.relative_to(root).as_posix()
    if not path.is_file():
        problems.append(Problem(entry["yaml"], entry["synthesis_id"], "file", f"{rel} not found"))
        return None
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.append(Problem(rel, None, None, f"cannot read the CSV file: {exc}"))
        return None
    df.columns = [str(c).strip() for c in df.columns]
    for col in df.columns:
        if col not in S.REPRODUCTION_COLUMNS:
            problems.append(Problem(rel, 1, col, "unknown column (see evidence/README.md, reproductions)"))
    df = df.apply(lambda s: s.str.strip()).reindex(columns=list(S.REPRODUCTION_COLUMNS), fill_value="")
    df.insert(0, "row", range(2, len(df) + 2))
    df.insert(0, "file", rel)
    _flag(problems, df, df["study"].eq(""), "study", "required value is empty")
    num = _numbers(problems, df, S.REPRODUCTION_NUMERIC)
    options = S.REPRODUCTION_INPUTS.get(entry["measure"], ())
    if options:
        complete = [df[list(cols)].ne("").all(axis=1) for cols in options]  # a bad number is flagged above
        ok = complete[0]
        for c in complete[1:]:
            ok = ok | c
        need = " or ".join("(" + ", ".join(cols) + ")" for cols in options)
        _flag(problems, df, ~ok, "study", f"{entry['measure']} needs the columns {need} in every row")
    for col in ("sd1i", "sd2i", "sei"):
        _flag(problems, df, num[col] <= 0, col, lambda r, c=col: f"{c} must be > 0; got {r[c]}")
    for col in ("n1i", "n2i"):
        _flag(problems, df, num[col].notna() & ((num[col] < 1) | (num[col] % 1 != 0)), col,
              lambda r, c=col: f"{c} must be an integer >= 1; got {r[c]}")
    for a, n in (("ai", "n1i"), ("ci", "n2i")):
        _flag(problems, df, (num[a] < 0) | (num[a] > num[n]), a,
              lambda r, a=a, n=n: f"{a} = {r[a]} events must lie between 0 and {n} = {r[n]}")
    bad_ci = (num["ci_lower"] > num["yi"]) | (num["ci_upper"] < num["yi"])
    _flag(problems, df, bad_ci, "yi", lambda r: f"yi {r['yi']} lies outside its CI [{r['ci_lower']}, {r['ci_upper']}]")
    out = df.copy()
    out[list(S.REPRODUCTION_NUMERIC)] = num
    out.insert(2, "synthesis_id", entry["synthesis_id"])
    return out
