"""The ``evidence-kit`` command line: one parser, one subcommand per task.

    evidence-kit check evidence/                    validate the evidence base (exit 1 on any problem)
    evidence-kit certainty evidence/ --table essa   GRADE, WWC or ESSA tables, printed or as CSV
    evidence-kit build                              execute the notebooks and render the review
    evidence-kit cite convert|dedupe|format|prisma  citation files

Every subcommand prints what it did and returns an exit code: 0 done, 1 a problem in the input
(named on stderr), 2 a usage error or a missing folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib
import pandas as pd

from evidence_kit import __version__
from evidence_kit import review as rv
from evidence_kit.app.site import StaleOutputs, build
from evidence_kit.citations.apa import FORMATS as BIB_FORMATS
from evidence_kit.citations.apa import bibliography
from evidence_kit.citations.duplicates import find_duplicates
from evidence_kit.citations.io import FORMATS, read_citations, write_citations
from evidence_kit.citations.model import CitationParseError
from evidence_kit.citations.prisma import prisma_counts, unmarked_duplicates
from evidence_kit.evidence import load_evidence
from evidence_kit.plots.prisma import prisma_diagram
from evidence_kit.review._common import _check_principle

TABLES = ("grade", "wwc", "essa")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evidence-kit",
        description="Reproducible evidence reviews for the Roadmap for Healthy Schools.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1],
    )
    parser.add_argument("--version", action="version", version=f"evidence-kit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_check(sub)
    _add_certainty(sub)
    _add_build(sub)
    _add_cite(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    matplotlib.use("Agg")  # the command line draws figures to files only
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


# --- evidence-kit check -----------------------------------------------------------------------

def _add_check(subparsers) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate the evidence base (evidence/) and list every problem",
        description="Validate principles.yaml, references/*.bib, syntheses/*.csv, screening/*.csv, "
                    "studies.yaml, gaps.yaml and the appraisal files; exit 1 if any problem is found.",
    )
    parser.add_argument("path", nargs="?", default="evidence/", help="the evidence folder (default: evidence/)")
    parser.add_argument("--coverage", action="store_true",
                        help="also print, per question, the synthesis rows, sources, datasets and stated gaps")
    parser.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Run the validation; return the exit code (0 valid, 1 problems, 2 no such folder).

    Prints every problem as ``file:row:column: message`` and exits 1 if there is any; otherwise
    prints a one-line summary and exits 0.
    """
    try:
        base = load_evidence(args.path, strict=False)
    except FileNotFoundError as exc:
        print(f"evidence-kit check: {exc}", file=sys.stderr)
        return 2
    for p in base.warnings:
        print(f"warning: {p.file}:{'' if p.row is None else p.row}:{p.column or ''}: {p.message}")
    for p in base.problems:
        row = "" if p.row is None else p.row
        column = "" if p.column is None else p.column
        print(f"{p.file}:{row}:{column}: {p.message}")
    if base.problems:
        print(f"{len(base.problems)} problem(s) in {args.path}")
        return 1
    print(f"{args.path}: OK: {base.summary()}")
    if getattr(args, "coverage", False):
        print(base.coverage().drop(columns="outcomes").to_string())
    return 0


# --- evidence-kit certainty -------------------------------------------------------------------

def _add_certainty(subparsers) -> None:
    parser = subparsers.add_parser(
        "certainty",
        help="print or export the GRADE, WWC and ESSA tables of the evidence base",
        description="The certainty of the evidence: GRADE per rated outcome (grade, the default), WWC rating "
                    "per trial finding (wwc), ESSA tier per programme (essa). Exit 1 when the evidence base "
                    "has problems (evidence-kit check lists them), 2 when the folder does not exist.",
    )
    parser.add_argument("path", nargs="?", default="evidence/", help="the evidence folder (default: evidence/)")
    parser.add_argument("--table", choices=TABLES, default="grade", help="which table (default: grade)")
    parser.add_argument("--principle", help="one principle id, e.g. P3 (default: all)")
    parser.add_argument("--out", help="write the table as CSV to this file instead of printing it")
    parser.set_defaults(func=run_certainty)


def certainty_table(base, which: str, principle: str | None = None) -> pd.DataFrame:
    """The ``which`` table (grade, wwc, essa) of an evidence base, for one principle or all."""
    if which == "grade":
        out = rv.certainty_table(base)
        return out if principle is None else out.loc[out["principle"] == _check_principle(base, principle)]
    ratings = rv.wwc_ratings(base, principle)
    return ratings if which == "wwc" else rv.essa_tiers(ratings).reset_index()


def run_certainty(args: argparse.Namespace) -> int:
    try:
        base = load_evidence(args.path, strict=False)
    except FileNotFoundError as exc:
        print(f"evidence-kit certainty: {exc}", file=sys.stderr)
        return 2
    if base.problems:
        print(f"evidence-kit certainty: {len(base.problems)} problem(s) in {args.path}; "
              f"run `evidence-kit check {args.path}` to list them", file=sys.stderr)
        return 1
    try:
        out = certainty_table(base, args.table, args.principle)
    except ValueError as exc:
        print(f"evidence-kit certainty: {exc}", file=sys.stderr)
        return 2
    if args.out:
        out.to_csv(args.out, index=False)
        print(f"wrote {len(out)} row(s) to {args.out}")
    else:
        with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_colwidth", 60):
            print(out.to_string(index=False))
    return 0


# --- evidence-kit build -----------------------------------------------------------------------

def _add_build(subparsers) -> None:
    p = subparsers.add_parser(
        "build", help="execute the notebooks and render the review to _build/site/",
        description="Execute the notebooks and render the review (index, evidence and gap map, principle "
                    "pages, methods appendix, API reference) to ROOT/_build/site/. The conclusions are written "
                    "to ROOT/evidence/conclusions.csv and compared with the committed version.")
    p.add_argument("root", nargs="?", default=".", help="project folder holding notebooks/ and evidence/")
    p.add_argument("--out", default=None, help="site folder (default: ROOT/_build/site)")
    p.add_argument("--no-execute", action="store_true",
                   help="render the committed outputs as they are (refused when evidence/ changed since they "
                        "were executed)")
    p.add_argument("--update-notebooks", action="store_true",
                   help="write executed outputs back to notebooks/ (before committing)")
    p.add_argument("--no-record", action="store_true",
                   help="do not rewrite evidence/conclusions.csv (still report what changed)")
    p.add_argument("--no-api", action="store_true", help="skip the API reference")
    p.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    p.set_defaults(func=run_build)


def run_build(args) -> int:
    try:
        build(args.root, out=args.out, execute=not args.no_execute, timeout=args.timeout,
              update_notebooks=args.update_notebooks, write_record=not args.no_record, api=not args.no_api)
    except (FileNotFoundError, StaleOutputs) as exc:
        print(f"evidence-kit build: {exc}", file=sys.stderr)
        return 1
    return 0


# --- evidence-kit cite ------------------------------------------------------------------------

_CITE_HELP = """    evidence-kit cite convert refs.ris refs.bib
    evidence-kit cite dedupe pubmed.nbib embase.ris --out groups.csv
    evidence-kit cite format refs.bib --style apa --format markdown
    evidence-kit cite prisma evidence/screening/ --figure prisma.png
"""


def _add_cite(subparsers) -> argparse.ArgumentParser:
    cite = subparsers.add_parser("cite", help="citation files: convert, dedupe, format, prisma",
                                 description=_CITE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = cite.add_subparsers(dest="cite_command", metavar="ACTION")
    cite.set_defaults(func=lambda args: (cite.print_help(), 2)[1])

    p = sub.add_parser("convert", help="convert between BibTeX, RIS, CSL-JSON, MEDLINE and WoS")
    p.add_argument("input", type=Path)
    p.add_argument("output", type=Path)
    p.add_argument("--from", dest="from_format", choices=FORMATS, help="input format (default: from the extension)")
    p.add_argument("--to", dest="to_format", choices=FORMATS, help="output format (default: from the extension)")
    p.add_argument("--lenient", action="store_true",
                   help="skip malformed records (each is reported on stderr) instead of stopping")
    p.set_defaults(func=_convert)

    p = sub.add_parser("dedupe", help="find duplicate records; write the groups as CSV")
    p.add_argument("inputs", type=Path, nargs="+")
    p.add_argument("--out", type=Path, required=True, help="CSV of duplicate groups")
    p.add_argument("--overrides", type=Path,
                   help="a reviewer's decisions: CSV with columns a, b, decision "
                        "(record ids or positions; duplicate or not_duplicate)")
    p.set_defaults(func=_dedupe)

    p = sub.add_parser("format", help="format a bibliography")
    p.add_argument("input", type=Path)
    p.add_argument("--style", default="apa", choices=["apa"])
    p.add_argument("--format", dest="out_format", default="text", choices=BIB_FORMATS)
    p.add_argument("--out", type=Path, help="write here instead of standard output")
    p.set_defaults(func=_format)

    p = sub.add_parser("prisma", help="PRISMA 2020 counts (and diagram) from a screening ledger")
    p.add_argument("ledger", type=Path, nargs="+", help="CSV file(s) or a folder of CSVs")
    p.add_argument("--figure", type=Path, help="save the flow diagram here (png, svg, pdf)")
    p.set_defaults(func=_prisma)
    return cite


def _read(path: Path, fmt=None, lenient=False):
    if not lenient:
        return read_citations(path, fmt)
    records, failures = read_citations(path, fmt, strict=False)
    for err in failures:
        print(f"skipped: {err}", file=sys.stderr)
    return records


def _run(action):
    def wrapped(args):
        try:
            return action(args)
        except (CitationParseError, ValueError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return wrapped


@_run
def _convert(args) -> int:
    records = _read(args.input, args.from_format, args.lenient)
    write_citations(records, args.output, args.to_format)
    print(f"{len(records)} records: {args.input} -> {args.output}")
    return 0


@_run
def _dedupe(args) -> int:
    records, origin = [], []
    for path in args.inputs:
        recs = _read(path)
        records += recs
        origin += [str(path)] * len(recs)
    overrides = None
    if args.overrides:
        table = pd.read_csv(args.overrides, dtype=str, keep_default_na=False)
        missing = {"a", "b", "decision"} - set(table.columns)
        if missing:
            raise ValueError(f"{args.overrides}: missing column(s) {', '.join(sorted(missing))}")
        overrides = table[["a", "b", "decision"]].itertuples(index=False)
    groups = find_duplicates(records, overrides=overrides)
    groups.insert(2, "file", [origin[i] for i in groups["record"]])
    groups.to_csv(args.out, index=False)
    n_removed = int((~groups["is_representative"]).sum())
    print(f"{len(records)} records, {groups['group'].nunique() if len(groups) else 0} duplicate "
          f"groups, {n_removed} duplicates; groups written to {args.out}")
    return 0


@_run
def _format(args) -> int:
    text = bibliography(_read(args.input), format=args.out_format, style=args.style)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


@_run
def _prisma(args) -> int:
    ledger = args.ledger[0] if len(args.ledger) == 1 else args.ledger
    counts = prisma_counts(ledger)
    print(counts.to_frame().to_string(index=False))
    unmarked = unmarked_duplicates(ledger)
    if len(unmarked):
        print(f"\nwarning: {unmarked['group'].nunique()} groups of records look like duplicates "
              "but none of them has duplicate_of set:", file=sys.stderr)
        for _, r in unmarked.iterrows():
            print(f"  group {r['group']}: {r['file']}, row {r['row']}, {r['record_id']} "
                  f"({r['reason']})", file=sys.stderr)
    if args.figure:
        ax = prisma_diagram(counts)
        ax.figure.savefig(args.figure, bbox_inches="tight")
        print(f"diagram written to {args.figure}")
    return 0


if __name__ == "__main__":  # python -m evidence_kit.app.cli
    sys.exit(main())
