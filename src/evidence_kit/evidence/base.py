"""``load_evidence``: read ``evidence/``, validate every file, return one ``EvidenceBase``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import pandas as pd

from evidence_kit.citations import prisma_counts
from evidence_kit.data import datasets
from evidence_kit.effects import effect_sizes
from evidence_kit.evidence import _schema as S
from evidence_kit.evidence._bib import read_references
from evidence_kit.evidence._certainty import (
    check_amstar2,
    check_appraisals,
    check_wwc_baseline,
    check_wwc_findings,
)
from evidence_kit.evidence._problems import EvidenceError, Problem, problems_frame
from evidence_kit.evidence._reproductions import ENTRY_COLUMNS, read_reproductions
from evidence_kit.evidence._tables import check_screening, check_syntheses, read_tables
from evidence_kit.evidence._yaml import read_gaps, read_principles, read_studies


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame(columns=["file", "row", *columns])


@dataclass(frozen=True)
class EvidenceBase:
    """The evidence base behind the Roadmap's principles, as read from ``evidence/``.

    Attributes
    ----------
    path : Path
        The folder read.
    principles : DataFrame
        One row per principle: id, short, text, n_questions.
    questions : DataFrame
        One row per evidence question: id, principle, type, population,
        intervention_or_exposure, comparator, outcomes (a list of outcome domains).
    references : dict
        Citation key -> ``Citation`` (``ek.read_citations``: a dict of CSL-JSON variables such as
        title, author, issued, DOI; ``.source.file`` relative to ``path`` and ``.source.line``).
    syntheses : DataFrame
        All ``syntheses/*.csv`` rows with ``file`` and ``row`` (spreadsheet row) columns; numeric
        columns as float, NaN where not reported.
    screening : DataFrame
        All ``screening/*.csv`` rows (the PRISMA 2020 ledger), as text, with ``file`` and ``row``.
    studies : DataFrame
        The metadat datasets mapped in ``studies.yaml``.
    gaps : DataFrame
        The explicit gaps of ``gaps.yaml`` (empty when the file is absent).
    problems : tuple of Problem
        Every problem found; empty when the evidence base is valid.
    warnings : tuple of Problem
        What deserves a look but is not an error: a row's outcome domain that none of its
        questions lists; a question with neither a synthesis row nor a stated gap.
    wwc_findings : DataFrame
        ``wwc/findings*.csv``: study-level facts for WWC study ratings and ESSA tiers, one row per
        finding; counts as float, ``joiners`` / ``compromised_randomization`` / ``significant``
        as True, False or None (not reported).
    wwc_baseline : DataFrame
        ``wwc/baseline*.csv``: baseline statistics of each finding's analytic sample.
    appraisals : DataFrame
        ``appraisals/*.csv``: per synthesis row, what the source review reports about the risk of
        bias of its studies, its own GRADE level and its small-study test.
    amstar2 : DataFrame
        ``amstar2/*.csv``: the 16 AMSTAR 2 answers per appraised review (``ek.amstar2_table``
        rates them).
    reproductions : DataFrame
        ``reproductions*.yaml``: one row per reproduced pooled estimate (synthesis_id, file,
        measure, method, locator, ...).
    reproduction_rows : DataFrame
        ``reproductions/*.csv``: the per-study rows, with their ``synthesis_id``; numbers as float.

    Examples
    --------
    >>> import evidence_kit as ek
    >>> base = ek.load_evidence("evidence/", strict=False)  # doctest: +SKIP
    >>> base.evidence_map()                                  # doctest: +SKIP
    >>> base.coverage(by="outcome")                          # doctest: +SKIP
    """

    path: Path
    principles: pd.DataFrame
    questions: pd.DataFrame
    references: dict
    syntheses: pd.DataFrame
    screening: pd.DataFrame
    studies: pd.DataFrame
    gaps: pd.DataFrame
    problems: tuple[Problem, ...] = field(default=())
    warnings: tuple[Problem, ...] = field(default=())
    wwc_findings: pd.DataFrame = field(default_factory=lambda: _empty(S.WWC_FINDINGS_COLUMNS))
    wwc_baseline: pd.DataFrame = field(default_factory=lambda: _empty(S.WWC_BASELINE_COLUMNS))
    appraisals: pd.DataFrame = field(default_factory=lambda: _empty(S.APPRAISALS_COLUMNS))
    amstar2: pd.DataFrame = field(default_factory=lambda: _empty(S.AMSTAR2_COLUMNS))
    reproductions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ENTRY_COLUMNS))
    reproduction_rows: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["file", "row", "synthesis_id", *S.REPRODUCTION_COLUMNS]))

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def problems_frame(self) -> pd.DataFrame:
        """The problems as a DataFrame (file, row, column, message)."""
        return problems_frame(list(self.problems))

    def summary(self) -> str:
        """One line: what was read, and how many rows still wait for their independent check."""
        syn = self.syntheses
        unchecked = int(syn["checked"].eq("").sum()) if len(syn) else 0
        return (f"{len(self.principles)} principles, {len(self.questions)} questions, "
                f"{len(self.references)} references, {len(syn)} synthesis rows from "
                f"{syn['citation_key'].nunique() if len(syn) else 0} sources "
                f"({unchecked} not yet independently checked), {len(self.screening)} screening records, "
                f"{len(self.studies)} study-level datasets, {len(self.gaps)} stated gaps"
                + "".join(f", {len(t)} {what} ({int(t['checked'].eq('').sum())} not yet checked)"
                          for what, t in (("WWC findings", self.wwc_findings),
                                          ("review appraisals", self.appraisals)) if len(t))
                + f"; {len(self.problems)} problems")

    def evidence_map(self, count: str = "sources", *, include_studies: bool = False) -> pd.DataFrame:
        """Principle x outcome domain counts: how much evidence stands behind each cell.

        Parameters
        ----------
        count : {"sources", "rows"}
            Distinct citation keys (default) or synthesis rows. A row mapped to two principles
            counts under both.
        include_studies : bool
            Also count the mapped metadat datasets (one source each).

        Returns
        -------
        DataFrame indexed by principle id (all principles), one column per outcome domain (all
        domains, in the schema's order), zeros where there is nothing.
        """
        if count not in ("sources", "rows"):
            raise ValueError(f"unknown count {count!r}; expected one of sources, rows")
        syn = self.syntheses.assign(principle=self.syntheses["principle"].map(S.split_ids))
        long = syn.explode("principle")[["principle", "outcome_domain", "citation_key"]]
        if include_studies and len(self.studies):
            st = self.studies.explode("principles").explode("outcome_domain")
            long = pd.concat([long, pd.DataFrame({"principle": st["principles"], "outcome_domain": st["outcome_domain"],
                                                  "citation_key": "dataset:" + st["dataset"]})], ignore_index=True)
        long = long.dropna(subset=["principle"])
        if count == "sources":
            long = long.drop_duplicates()
        table = pd.crosstab(long["principle"], long["outcome_domain"]) if len(long) else pd.DataFrame()
        return table.reindex(index=list(self.principles["id"]), columns=list(S.OUTCOME_DOMAINS),
                             fill_value=0).rename_axis(index="principle", columns="outcome_domain").astype(int)

    def coverage(self, by: str = "question") -> pd.DataFrame:
        """How much stands behind each question, or each (question, outcome domain) pair.

        Parameters
        ----------
        by : {"question", "outcome"}
            "question": one row per question with synthesis_rows, sources (distinct citation
            keys), datasets (mapped in studies.yaml) and stated_gaps (gaps.yaml entries naming the
            question, or its principle without a question). "outcome": one row per question and
            each outcome domain it lists, with synthesis_rows, sources and stated_gap (a gap
            naming the question, or its principle, with that domain or no domain).

        Notes
        -----
        A question with no source and no stated gap is what issue 7 calls undone;
        ``load_evidence`` warns about each.
        """
        if by not in ("question", "outcome"):
            raise ValueError(f"unknown by {by!r}; expected one of question, outcome")
        syn = self.syntheses.assign(question=self.syntheses["question"].map(S.split_ids)).explode("question")
        gaps = self._gaps_by_question()
        if by == "outcome":
            pairs = self.questions[["id", "principle", "outcomes"]].explode("outcomes")
            pairs = pairs.rename(columns={"id": "question", "outcomes": "outcome_domain"}).dropna()
            keys = ["question", "outcome_domain"]
            grouped = syn.groupby(keys)
            out = pairs.set_index(keys)
            out["synthesis_rows"] = grouped.size().reindex(out.index, fill_value=0).astype(int)
            out["sources"] = grouped["citation_key"].nunique().reindex(out.index, fill_value=0).astype(int)
            gap_pairs = {(q, d) for q, d in zip(gaps["question"], gaps["outcome_domain"])}
            out["stated_gap"] = [(q, d) in gap_pairs or (q, "") in gap_pairs for q, d in out.index]
            return out
        rows = syn.groupby("question").size()
        sources = syn.groupby("question")["citation_key"].nunique()
        studies = self.studies.explode("questions").groupby("questions").size() if len(self.studies) else pd.Series(dtype=int)
        out = self.questions[["id", "principle", "outcomes"]].set_index("id")
        ids = out.index
        out["synthesis_rows"] = rows.reindex(ids, fill_value=0).astype(int)
        out["sources"] = sources.reindex(ids, fill_value=0).astype(int)
        out["datasets"] = studies.reindex(ids, fill_value=0).astype(int)
        out["stated_gaps"] = gaps.groupby("question").size().reindex(ids, fill_value=0).astype(int)
        return out.rename_axis("question")

    def _gaps_by_question(self) -> pd.DataFrame:
        """gaps.yaml as (question, outcome_domain) pairs; a principle-level gap covers its questions."""
        gaps = self.gaps.assign(question=self.gaps["question"].map(S.split_ids))
        whole = gaps["question"].map(len).eq(0)
        by_principle = self.questions.groupby("principle")["id"].apply(list)
        gaps.loc[whole, "question"] = gaps.loc[whole, "principle"].map(
            lambda p: [q for pid in S.split_ids(p) for q in by_principle.get(pid, [])])
        return gaps.explode("question").dropna(subset=["question"])[["question", "outcome_domain"]]

    def prisma_counts(self):
        """PRISMA 2020 flow counts of the screening ledger (``ek.prisma_counts``), all areas together."""
        return prisma_counts(self.screening)

    def load_study(self, dataset: str) -> pd.DataFrame:
        """The metadat dataset mapped in studies.yaml (``ek.load_dataset``)."""
        self._study(dataset)
        return datasets.load_dataset(dataset)

    def study_effect_sizes(self, dataset: str) -> pd.DataFrame:
        """The dataset with ``yi`` and ``vi``: as shipped, or computed with ``ek.effect_sizes``
        from the ``escalc`` arguments in studies.yaml (metafor's measure code and columns)."""
        spec = dict(self._study(dataset)["escalc"])
        data = datasets.load_dataset(dataset)
        if not spec:
            return data
        if spec["measure"] == "GEN":  # metafor's generic measure: yi and sei (or vi) as given
            yi = data[spec["yi"]].astype(float)
            vi = data[spec["vi"]].astype(float) if "vi" in spec else data[spec["sei"]].astype(float) ** 2
            return data.assign(yi=yi, vi=vi)
        measure = spec.pop("measure")
        return effect_sizes(data, measure=measure, **spec)

    def _study(self, dataset: str) -> pd.Series:
        name = dataset if dataset.startswith("dat.") else f"dat.{dataset}"
        hit = self.studies.loc[self.studies["dataset"] == name]
        if hit.empty:
            raise ValueError(f"unknown dataset {dataset!r}; studies.yaml maps {', '.join(self.studies['dataset'])}")
        return hit.iloc[0]

    def __repr__(self) -> str:
        return f"EvidenceBase({str(self.path)!r}: {self.summary()})"

    def _repr_html_(self) -> str:
        """JupyterLab: the summary, the evidence map, then the problems and warnings if any."""
        parts = [f"<p><b>Evidence base</b> <code>{escape(str(self.path))}</code>: {escape(self.summary())}</p>",
                 "<p>Sources per principle and outcome domain</p>", self.evidence_map().to_html()]
        for title, items in (("Problems", self.problems), ("Warnings", self.warnings)):
            if items:
                parts += [f"<p>{title} ({len(items)})</p>", problems_frame(list(items)).to_html(index=False)]
        return "\n".join(parts)


def _stale_gaps(base: EvidenceBase) -> list[Problem]:
    """A gap naming a question (and domain) that synthesis rows now cover should be reviewed."""
    out = []
    if not len(base.gaps):
        return out
    by_outcome = base.coverage(by="outcome")["sources"]
    by_question = base.coverage()["sources"]
    for pos, gap in enumerate(base.gaps.itertuples(), start=1):  # a handful of entries
        for q in S.split_ids(gap.question):
            if gap.outcome_domain:
                n = int(by_outcome.get((q, gap.outcome_domain), 0))
                what = f"{q} {gap.outcome_domain}"
            else:
                n = int(by_question.get(q, 0))
                what = q
            if n:
                out.append(Problem("gaps.yaml", q or pos, None,
                                   f"stated gap for {what}, but syntheses now cite {n} source(s) for it: "
                                   "review the gap or remove it"))
    return out


def _sort_key(p: Problem):
    row = p.row
    return (p.file, 0 if row is None else 1 if isinstance(row, int) else 2, row if isinstance(row, int) else 0)


def _find_folder(path: Path) -> Path:
    """``path`` itself, or for a relative path not found here, the same path under the nearest
    parent folder that has it (so ``"evidence/"`` works from ``notebooks/`` as from the root)."""
    if path.is_dir() or path.is_absolute():
        if not path.is_dir():
            raise FileNotFoundError(f"evidence folder not found: {path}")
        return path
    here = Path.cwd().resolve()
    for parent in here.parents:
        if (parent / path).is_dir():
            return parent / path
    raise FileNotFoundError(f"evidence folder not found: {path} (looked in {here} and its parent folders)")


def load_evidence(path: str | Path = "evidence/", *, strict: bool = True) -> EvidenceBase:
    """Read and validate the evidence base in ``path``.

    Parameters
    ----------
    path : str or Path
        The ``evidence/`` folder (a relative path not found in the working directory is looked
        up in its parent folders, so the default works from ``notebooks/``): principles.yaml, references/*.bib (or CSL-JSON *.json), syntheses/*.csv,
        screening/*.csv, studies.yaml and the optional gaps.yaml, wwc/findings*.csv, wwc/baseline*.csv
        and appraisals/*.csv.
    strict : bool
        True (default) raises ``EvidenceError`` listing every problem; False returns the evidence
        base with its ``problems`` so a notebook can show them.

    Returns
    -------
    EvidenceBase

    Notes
    -----
    Every check runs and every problem is collected before anything is raised, each naming the
    file, the row (spreadsheet row of a CSV, line of a BibTeX entry, id of a YAML entry) and the
    column. The schema is documented in ``evidence/README.md``. The independent second read
    (``checked``) and the "numbers as printed" rule follow the data-collection guidance of the
    Cochrane Handbook (chapter 5, "Collecting data", Li, Higgins & Deeks); the screening ledger
    follows the PRISMA 2020 flow diagram (Page et al., 2021, BMJ 372:n71, doi:10.1136/bmj.n71).
    """
    root = _find_folder(Path(path))
    problems: list[Problem] = []
    principles, questions = read_principles(root / "principles.yaml", root, problems)
    q_to_p = dict(zip(questions["id"], questions["principle"]))
    references = read_references(root / "references", root, problems)
    warnings: list[Problem] = []
    screening = read_tables(root / "screening", root, S.SCREENING_COLUMNS, problems)
    included = check_screening(screening, references, problems, warnings)
    syntheses = read_tables(root / "syntheses", root, S.SYNTHESES_COLUMNS, problems)
    outcomes = dict(zip(questions["id"], questions["outcomes"]))
    syntheses = check_syntheses(syntheses, q_to_p, references, included, problems, warnings, outcomes)
    studies = read_studies(root / "studies.yaml", root, q_to_p, references, problems)
    gaps = read_gaps(root / "gaps.yaml", root, q_to_p, problems)
    findings = read_tables(root / "wwc", root, S.WWC_FINDINGS_COLUMNS, problems, "findings*.csv")
    findings = check_wwc_findings(findings, q_to_p, references, included, problems, warnings, outcomes)
    baseline = read_tables(root / "wwc", root, S.WWC_BASELINE_COLUMNS, problems, "baseline*.csv")
    baseline = check_wwc_baseline(baseline, findings, problems)
    appraisals = read_tables(root / "appraisals", root, S.APPRAISALS_COLUMNS, problems)
    appraisals = check_appraisals(appraisals, syntheses, references, problems)
    amstar2 = read_tables(root / "amstar2", root, S.AMSTAR2_COLUMNS, problems)
    amstar2 = check_amstar2(amstar2, syntheses, references, problems)
    reproductions, reproduction_rows = read_reproductions(root, syntheses, problems)
    problems.sort(key=_sort_key)  # stable: within a row, in the order the checks ran
    base = EvidenceBase(root, principles, questions, references, syntheses, screening, studies, gaps,
                        tuple(problems), (), findings, baseline, appraisals, amstar2, reproductions,
                        reproduction_rows)
    if len(questions):
        cov = base.coverage()
        for qid in cov.index[(cov["sources"] == 0) & (cov["stated_gaps"] == 0)]:
            warnings.append(Problem("principles.yaml", qid, None,
                                    "no synthesis row and no stated gap (gaps.yaml) for this question"))
        warnings += _stale_gaps(base)
    if strict and problems:
        raise EvidenceError(problems)
    return dataclasses.replace(base, warnings=tuple(warnings))
