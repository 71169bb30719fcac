"""The ``evidence-kit`` command line.

Each subcommand lives beside the code it drives and registers itself here through
``add_parser(subparsers)``; this module only wires them together.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# modules that each add one subcommand through add_parser(subparsers)
_SUBCOMMANDS = [
    "evidence_kit.evidence_cli",   # evidence-kit check evidence/
    "evidence_kit.citations.cli",  # evidence-kit cite ...
    "evidence_kit.report",         # evidence-kit build
    "evidence_kit.certainty.cli",  # evidence-kit certainty evidence/
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evidence-kit",
        description="Reproducible evidence reviews for the Roadmap for Healthy Schools.",
    )
    from evidence_kit import __version__

    parser.add_argument("--version", action="version", version=f"evidence-kit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _SUBCOMMANDS:
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
