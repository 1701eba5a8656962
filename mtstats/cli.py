"""The ``mtstats`` command line: ``mtstats demo`` and ``mtstats report``.

Also run as ``python -m mtstats``. Problems with the input or output files
are one line on stderr, ``mtstats <command>: error: ...``, and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from ._cli_demo import add_demo_parser
from ._cli_report import add_report_parser


def _version():
    try:
        from . import __version__
    except ImportError:  # pragma: no cover - partial installs
        from importlib.metadata import version

        __version__ = version("mtstats")
    return __version__


def build_parser():
    """Argument parser of the ``mtstats`` command.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="mtstats", description="Statistical multitask learning.")
    parser.add_argument("--version", action="version",
                        version=f"mtstats {_version()}",
                        help="print the version of mtstats and exit")
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="COMMAND",
                                     help="run 'mtstats COMMAND --help' for its "
                                     "options")
    add_demo_parser(commands)
    add_report_parser(commands)
    return parser


def _message(error):
    """One line describing ``error``."""
    if isinstance(error, OSError) and error.strerror and error.filename:
        text = f"{error.strerror}: {str(error.filename)!r}"
    else:
        text = str(error)
    return " ".join(text.split())


def main(argv=None):
    """Entry point of the ``mtstats`` console script.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        The exit status: 0, or 2 for a problem with the input or output.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as error:
        print(f"mtstats {args.command}: error: {_message(error)}",
              file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
