"""Read and check the YAML files of ``evidence/``: principles, studies (metadat datasets), gaps.

YAML problems name the entry by its id (``row``) and the key (``column``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import yaml

from evidence_kit.citations.ids import normalize_doi
from evidence_kit.data import datasets
from evidence_kit.evidence import _schema as S
from evidence_kit.evidence._files import NoAliasLoader, has_anchors, read_text
from evidence_kit.evidence._problems import Problem

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it
_QUESTION_TYPES = {"intervention": "intervention", "exposure": "exposure"}


def read_yaml(path: Path, root: Path, key: str, problems: list[Problem], *, required: bool = True) -> list:
    """The list under ``key`` in a YAML file; problems for a missing file or a wrong shape."""
    rel = path.relative_to(root).as_posix()
    if not path.is_file():
        if required:
            problems.append(Problem(rel, None, None, "file not found"))
        return []
    text = read_text(path, rel, problems)  # not UTF-8: one problem naming the line, then read
    # aliases expand ("billion laughs"): reported once, and read as empty values
    loader = NoAliasLoader if has_anchors(text, rel, problems) else _SafeLoader
    try:
        doc = yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:  # row = the line where the parser gave up
        mark = exc.problem_mark
        problems.append(Problem(rel, None if mark is None else mark.line + 1, None,
                                f"cannot parse the YAML: {exc.context or ''} {exc.problem}".replace("  ", " ")))
        return []
    except yaml.YAMLError as exc:
        problems.append(Problem(rel, None, None, f"cannot parse the YAML: {exc}"))
        return []
    items = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        problems.append(Problem(rel, None, key, f"expected a list under {key!r}"))
        return []
    bad = [i for i, item in enumerate(items) if not isinstance(item, dict)]
    for i in bad:
        problems.append(Problem(rel, i + 1, None, f"entry {i + 1} of {key!r} is not a mapping"))
    return [item for item in items if isinstance(item, dict)]


def _text(item: Mapping, name: str) -> str:
    value = item.get(name)
    return "" if value is None else str(value).strip()


def _ids(value) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value]
    return S.split_ids(value) if value else []


def read_principles(path: Path, root: Path, problems: list[Problem]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """principles.yaml -> (principles, questions) frames, checking ids, PICO/PECO fields, outcomes."""
    rel = path.relative_to(root).as_posix()
    p_rows, q_rows = [], []
    seen: set[str] = set()
    for pos, item in enumerate(read_yaml(path, root, "principles", problems), start=1):
        pid = _text(item, "id")
        label = pid or pos
        if not S.PRINCIPLE_RE.match(pid):
            problems.append(Problem(rel, label, "id", f"principle id {pid!r} is not P<number>"))
        elif pid in seen:
            problems.append(Problem(rel, label, "id", f"principle id {pid} is used twice"))
        seen.add(pid)
        for name in ("short", "text"):
            if not _text(item, name):
                problems.append(Problem(rel, label, name, "required value is empty"))
        questions = item.get("questions") or []
        if not isinstance(questions, list) or not 2 <= len(questions) <= 4:
            problems.append(Problem(rel, label, "questions", "each principle has 2 to 4 evidence questions"))
            questions = questions if isinstance(questions, list) else []
        for q in questions:
            q_rows.append(_question(problems, rel, pid, q, seen))
        p_rows.append({"id": pid, "short": _text(item, "short"), "text": _text(item, "text"),
                       "n_questions": len(questions)})
    principles = pd.DataFrame(p_rows, columns=["id", "short", "text", "n_questions"])
    questions = pd.DataFrame([r for r in q_rows if r], columns=[
        "id", "principle", "type", "population", "intervention_or_exposure", "comparator", "outcomes"])
    return principles, questions


def _question(problems, rel, pid, q, seen) -> dict | None:
    if not isinstance(q, dict):
        problems.append(Problem(rel, pid, "questions", f"a question of {pid} is not a mapping"))
        return None
    qid = _text(q, "id")
    match = S.QUESTION_RE.match(qid)
    if not match or f"P{match.group(1)}" != pid:
        problems.append(Problem(rel, qid or pid, "id", f"question id {qid!r} should be Q{pid[1:]}.<n> under {pid}"))
    elif qid in seen:
        problems.append(Problem(rel, qid, "id", f"question id {qid} is used twice"))
    seen.add(qid)
    qtype = _text(q, "type")
    if qtype not in _QUESTION_TYPES:
        problems.append(Problem(rel, qid, "type", f"type {qtype!r}; expected intervention or exposure"))
    for name in ("population", _QUESTION_TYPES.get(qtype, "intervention"), "comparator"):
        if not _text(q, name):
            problems.append(Problem(rel, qid, name, "required value is empty"))
    outcomes = _ids(q.get("outcomes"))
    if not outcomes:
        problems.append(Problem(rel, qid, "outcomes", "at least one outcome domain is required"))
    for o in outcomes:
        if o not in S.OUTCOME_DOMAINS:
            problems.append(Problem(rel, qid, "outcomes",
                                    f"unknown outcome domain {o!r}; expected one of {', '.join(S.OUTCOME_DOMAINS)}"))
    return {"id": qid, "principle": pid, "type": qtype, "population": _text(q, "population"),
            "intervention_or_exposure": _text(q, _QUESTION_TYPES.get(qtype, "intervention")),
            "comparator": _text(q, "comparator"), "outcomes": outcomes}


def _check_ids(problems, rel, label, item, questions: Mapping[str, str], *, required=True) -> tuple[list, list]:
    """principles/questions keys of a YAML entry: ids exist and belong together."""
    ps = _ids(item.get("principles", item.get("principle")))
    qs = _ids(item.get("questions", item.get("question")))
    known = set(questions.values())
    if required and not ps:
        problems.append(Problem(rel, label, "principles", "at least one principle is required"))
    for p in ps:
        if p not in known:
            problems.append(Problem(rel, label, "principles", f"unknown principle {p!r}"))
    for q in qs:
        if q not in questions:
            problems.append(Problem(rel, label, "questions", f"unknown question {q!r} (not in principles.yaml)"))
        elif questions[q] not in ps:
            problems.append(Problem(rel, label, "questions", f"question {q} belongs to {questions[q]}, not to {';'.join(ps)}"))
    return ps, qs


_STUDY_KEYS = ("dataset", "title", "principles", "questions", "outcome_domain", "effect_measure",
               "population", "directness", "citation_key", "doi", "why")


def read_studies(path: Path, root: Path, questions: Mapping[str, str], references: Mapping[str, dict],
                 problems: list[Problem]) -> pd.DataFrame:
    """studies.yaml -> one row per mapped metadat dataset. Every shipped dataset must be either
    mapped or listed under ``not_mapped`` with a reason; the reference's DOI must appear in the
    dataset's documentation (its Source or References section)."""
    rel = path.relative_to(root).as_posix()
    shipped = datasets.list_datasets()
    rows, listed = [], {}
    for pos, item in enumerate(read_yaml(path, root, "datasets", problems), start=1):
        name = _text(item, "dataset")
        label = name or pos
        for key in _STUDY_KEYS:
            if key not in ("principles", "questions") and not _text(item, key):
                problems.append(Problem(rel, label, key, "required value is empty"))
        ps, qs = _check_ids(problems, rel, label, item, questions)
        if not qs:
            problems.append(Problem(rel, label, "questions", "at least one question is required"))
        domains = _ids(item.get("outcome_domain"))
        for d in domains:
            if d not in S.OUTCOME_DOMAINS:
                problems.append(Problem(rel, label, "outcome_domain",
                                        f"unknown outcome_domain {d!r}; expected one of {', '.join(S.OUTCOME_DOMAINS)}"))
        key = _text(item, "citation_key")
        if key and key not in references:
            problems.append(Problem(rel, label, "citation_key", f"citation_key {key!r} is not in references/"))
        doi = _text(item, "doi")
        ref_doi = normalize_doi(str(references[key].get("DOI") or "")) if key in references else None
        if doi and normalize_doi(doi) is None:
            problems.append(Problem(rel, label, "doi", f"not a DOI: {doi!r}"))
        elif doi and ref_doi and normalize_doi(doi) != ref_doi:
            problems.append(Problem(rel, label, "doi", f"DOI {normalize_doi(doi)} differs from the DOI of {key} ({ref_doi})"))
        also = _ids(item.get("also_cite"))
        for other in also:
            if other not in references:
                problems.append(Problem(rel, label, "also_cite", f"citation key {other!r} is not in references/"))
        escalc = item.get("escalc") or {}
        if name not in shipped:
            problems.append(Problem(rel, label, "dataset", f"unknown dataset {name!r}; not in src/evidence_kit/data/metadat"))
        else:
            _check_dataset(problems, rel, name, escalc, references.get(key))
        if name in listed:
            problems.append(Problem(rel, label, "dataset", f"{name} is listed twice"))
        listed[name] = "datasets"
        rows.append({"dataset": name, "title": _text(item, "title"), "principles": ps, "questions": qs,
                     "outcome_domain": domains, "effect_measure": _text(item, "effect_measure"),
                     "escalc": dict(escalc) if isinstance(escalc, dict) else {},
                     "population": _text(item, "population"), "directness": _text(item, "directness"),
                     "citation_key": key, "doi": doi, "also_cite": also, "why": _text(item, "why")})
    for pos, item in enumerate(read_yaml(path, root, "not_mapped", problems, required=False), start=1):
        name = _text(item, "dataset")
        if name not in shipped:
            problems.append(Problem(rel, name or pos, "dataset", f"unknown dataset {name!r}"))
        if not _text(item, "reason"):
            problems.append(Problem(rel, name or pos, "reason", "say why the dataset is not mapped"))
        if name in listed:
            problems.append(Problem(rel, name, "dataset", f"{name} is listed twice"))
        listed[name] = "not_mapped"
    if path.is_file():
        for name in shipped:
            if name not in listed:
                problems.append(Problem(rel, name, "dataset", "shipped dataset neither mapped nor listed under not_mapped"))
    return pd.DataFrame(rows, columns=["dataset", "title", "principles", "questions", "outcome_domain",
                                       "effect_measure", "escalc", "population", "directness",
                                       "citation_key", "doi", "also_cite", "why"])


@functools.lru_cache(maxsize=64)
def _dataset_columns(name: str) -> frozenset[str]:
    return frozenset(datasets.load_dataset(name).columns)


@functools.lru_cache(maxsize=64)
def _dataset_docs(name: str) -> str:
    info = datasets.dataset_info(name)
    return (info.get("source", "") + " " + info.get("references", "")).lower()


def _check_dataset(problems, rel, name, escalc, reference) -> None:
    columns = _dataset_columns(name)
    if escalc and not isinstance(escalc, dict):
        problems.append(Problem(rel, name, "escalc", "escalc must map argument -> column"))
    elif escalc:
        if not _text(escalc, "measure"):
            problems.append(Problem(rel, name, "escalc", "escalc needs a metafor measure code"))
        for arg, col in escalc.items():
            if arg != "measure" and str(col) not in columns:
                problems.append(Problem(rel, name, "escalc", f"{arg}={col!r} is not a column of {name}"))
    elif not {"yi", "vi"} <= columns:
        problems.append(Problem(rel, name, "escalc", f"{name} has no yi and vi; say how to compute them (escalc)"))
    doi = normalize_doi(str((reference or {}).get("DOI") or ""))
    if reference is not None and doi:
        if doi not in _dataset_docs(name):
            problems.append(Problem(rel, name, "citation_key",
                                    f"the DOI of {reference['id']} ({doi}) is not in {name}'s documented source"))


def read_gaps(path: Path, root: Path, questions: Mapping[str, str], problems: list[Problem]) -> pd.DataFrame:
    """gaps.yaml (optional) -> one row per stated gap."""
    rel = path.relative_to(root).as_posix() if path.is_file() else "gaps.yaml"
    rows = []
    for pos, item in enumerate(read_yaml(path, root, "gaps", problems, required=False), start=1):
        label = _text(item, "question") or _text(item, "principle") or pos
        ps, qs = _check_ids(problems, rel, label, item, questions)
        domain = _text(item, "outcome_domain")
        if domain and domain not in S.OUTCOME_DOMAINS:
            problems.append(Problem(rel, label, "outcome_domain", f"unknown outcome_domain {domain!r}"))
        for key in ("searched", "reason"):
            if not _text(item, key):
                problems.append(Problem(rel, label, key, "required value is empty"))
        rows.append({"principle": ";".join(ps), "question": ";".join(qs), "outcome_domain": domain,
                     "searched": _text(item, "searched"), "reason": _text(item, "reason")})
    return pd.DataFrame(rows, columns=["principle", "question", "outcome_domain", "searched", "reason"])
