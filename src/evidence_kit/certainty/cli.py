"""``evidence-kit certainty evidence/``: the certainty tables of the evidence base, for batch use.

Three tables, each what the notebooks show, for every principle or one:

* ``grade`` (default): the GRADE certainty of every rated published outcome
  (``review.certainty_table``);
* ``wwc``: the WWC rating of every recorded trial finding, with the WWC's own published rating
  and the reasons (``review.wwc_ratings``);
* ``essa``: the ESSA evidence tier of every recorded programme (``review.essa_tiers``).

Printed as a table, or written as CSV with ``--out``. Exit 0; 1 when the evidence base has
problems (run ``evidence-kit check`` to list them); 2 when the folder does not exist.
"""

from __future__ import annotations

import argparse
import sys

TABLES = ("grade", "wwc", "essa")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``certainty`` subcommand on ``evidence-kit``'s subparsers."""
    parser = subparsers.add_parser(
        "certainty",
        help="print or export the GRADE, WWC and ESSA tables of the evidence base",
        description="The certainty of the evidence: GRADE per rated outcome, WWC rating per trial finding, "
                    "ESSA tier per programme.",
    )
    parser.add_argument("path", nargs="?", default="evidence/", help="the evidence folder (default: evidence/)")
    parser.add_argument("--table", choices=TABLES, default="grade", help="which table (default: grade)")
    parser.add_argument("--principle", help="one principle id, e.g. P3 (default: all)")
    parser.add_argument("--out", help="write the table as CSV to this file instead of printing it")
    parser.set_defaults(func=run_certainty)
    return parser


def table(base, which: str, principle: str | None = None):
    """The ``which`` table (grade, wwc, essa) of an evidence base, for one principle or all."""
    from evidence_kit import review as rv
    from evidence_kit.review._common import _check_principle

    if which == "grade":
        out = rv.certainty_table(base)
        return out if principle is None else out.loc[out["principle"] == _check_principle(base, principle)]
    ratings = rv.wwc_ratings(base, principle)
    return ratings if which == "wwc" else rv.essa_tiers(ratings).reset_index()


def run_certainty(args: argparse.Namespace) -> int:
    from evidence_kit.evidence import load_evidence

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
        out = table(base, args.table, args.principle)
    except ValueError as exc:
        print(f"evidence-kit certainty: {exc}", file=sys.stderr)
        return 2
    if args.out:
        out.to_csv(args.out, index=False)
        print(f"wrote {len(out)} row(s) to {args.out}")
    else:
        import pandas as pd

        with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_colwidth", 60):
            print(out.to_string(index=False))
    return 0
