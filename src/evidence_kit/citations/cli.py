"""``evidence-kit cite``: convert, deduplicate, format, and count PRISMA from the command line.

    evidence-kit cite convert refs.ris refs.bib
    evidence-kit cite dedupe pubmed.nbib embase.ris --out groups.csv
    evidence-kit cite format refs.bib --style apa --format markdown
    evidence-kit cite prisma evidence/screening/ --figure prisma.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evidence_kit.citations.apa import FORMATS as BIB_FORMATS
from evidence_kit.citations.apa import bibliography
from evidence_kit.citations.duplicates import find_duplicates
from evidence_kit.citations.io import FORMATS, read_citations, write_citations
from evidence_kit.citations.model import CitationParseError


def add_parser(subparsers) -> argparse.ArgumentParser:
    cite = subparsers.add_parser("cite", help="citation files: convert, dedupe, format, prisma",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
        import pandas as pd

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
    from evidence_kit.citations.prisma import prisma_counts, prisma_diagram, unmarked_duplicates

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
        import matplotlib

        matplotlib.use("Agg")
        ax = prisma_diagram(counts)
        ax.figure.savefig(args.figure, bbox_inches="tight")
        print(f"diagram written to {args.figure}")
    return 0
