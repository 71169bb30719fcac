"""``evidence-kit check evidence/``: validate the evidence base from the command line.

Prints every problem as ``file:row:column: message`` (tab-separated fields are avoided so the
lines read well in CI logs) and exits 1 if there is any; otherwise prints a one-line summary and
exits 0.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``check`` subcommand on ``evidence-kit``'s subparsers."""
    parser = subparsers.add_parser(
        "check",
        help="validate the evidence base (evidence/) and list every problem",
        description="Validate principles.yaml, references/*.bib, syntheses/*.csv, screening/*.csv, "
                    "studies.yaml and gaps.yaml; exit 1 if any problem is found.",
    )
    parser.add_argument("path", nargs="?", default="evidence/", help="the evidence folder (default: evidence/)")
    parser.add_argument("--coverage", action="store_true",
                        help="also print, per question, the synthesis rows, sources, datasets and stated gaps")
    parser.set_defaults(func=run_check)
    return parser


def run_check(args: argparse.Namespace) -> int:
    """Run the validation; return the exit code (0 valid, 1 problems, 2 no such folder)."""
    from evidence_kit.evidence import load_evidence

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
