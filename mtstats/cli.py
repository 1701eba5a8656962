"""The ``mtstats`` command line: ``mtstats demo`` and ``mtstats report``."""

from __future__ import annotations

import argparse
import sys

from ._cli_demo import add_demo_parser
from ._cli_report import add_report_parser


def build_parser():
    """Argument parser of the ``mtstats`` command."""
    parser = argparse.ArgumentParser(
        prog="mtstats", description="Statistical multitask learning.")
    commands = parser.add_subparsers(dest="command", required=True)
    add_demo_parser(commands)
    add_report_parser(commands)
    return parser


def main(argv=None):
    """Entry point of the ``mtstats`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"mtstats {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
