"""Pieces shared by the ``mtstats`` sub-commands.

Argument types that reject impossible values at parse time, and output files
that never destroy data: :func:`check_output` refuses, before any work starts,
an output path that is an input file, already exists (unless ``--force``), is a
directory, or cannot be written; :func:`write_atomically` writes to a
temporary file next to the target and moves it into place only when complete.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from pathlib import Path


def int_at_least(low):
    """An argparse ``type``: an integer ``>= low``.

    Parameters
    ----------
    low : int
        The smallest accepted value.

    Returns
    -------
    callable
        Converts a string, raising :class:`argparse.ArgumentTypeError`.
    """
    def convert(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {low}; got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {low}; got {value}")
        return value
    return convert


def n_jobs(text):
    """An argparse ``type``: a joblib ``n_jobs``, an integer other than 0.

    Parameters
    ----------
    text : str
        The argument.

    Returns
    -------
    int
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"must be a non-zero integer (-1: every core); got {text!r}")
    return value


def float_above(low, *, inclusive=False):
    """An argparse ``type``: a finite float ``> low`` (``>=`` if inclusive).

    Parameters
    ----------
    low : float
        The bound.
    inclusive : bool, default=False
        Whether ``low`` itself is accepted.

    Returns
    -------
    callable
        Converts a string, raising :class:`argparse.ArgumentTypeError`.
    """
    relation = ">=" if inclusive else ">"

    def convert(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        ok = value >= low if inclusive else value > low
        if not (math.isfinite(value) and ok):
            raise argparse.ArgumentTypeError(
                f"must be a finite number {relation} {low:g}; got {text!r}")
        return value
    return convert


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist: compare the spelled-out paths
        return Path(a).resolve() == Path(b).resolve()


def check_output(path, *, option, inputs=(), force=False):
    """Refuse an output path that would destroy data or cannot be written.

    Called before any computation, so that a bad path fails at once.

    Parameters
    ----------
    path : str or path-like
        The output file.
    option : str
        The option that gave it (``"--out"``), for the messages.
    inputs : sequence of str or path-like, default=()
        Input files that must never be overwritten, even with ``force``.
    force : bool, default=False
        Allow replacing an existing (writable, regular) file.

    Raises
    ------
    ValueError
        With a one-line message naming the path and the problem.
    """
    target = Path(path)
    for source in inputs:
        if _same_file(target, source):
            raise ValueError(f"{option} {str(path)!r} is the input file "
                             f"{str(source)!r}; refusing to overwrite it.")
    if target.is_dir():
        raise ValueError(f"{option} {str(path)!r} is a directory; give a file "
                         "name, e.g. " + str(target / "report.html") + ".")
    if os.path.lexists(target):
        if not force:
            raise ValueError(f"{option} {str(path)!r} already exists; pass "
                             "--force to overwrite it.")
        if not os.access(target, os.W_OK):
            raise ValueError(f"{option} {str(path)!r} is read-only; refusing to "
                             "overwrite it.")
    parent = target.absolute().parent
    if not parent.exists():
        raise ValueError(f"{option} {str(path)!r}: directory {str(parent)!r} "
                         "does not exist.")
    if not parent.is_dir():
        raise ValueError(f"{option} {str(path)!r}: {str(parent)!r} is not a "
                         "directory.")
    try:  # the only reliable test of writability (ACLs, read-only mounts, root)
        handle, probe = tempfile.mkstemp(dir=parent, prefix=".mtstats-probe-")
    except OSError as error:
        raise ValueError(f"{option} {str(path)!r}: cannot write in directory "
                         f"{str(parent)!r} ({error.strerror}).") from None
    os.close(handle)
    os.remove(probe)


def _default_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(path, write, *, force=False):
    """Write a file through a temporary file that replaces ``path`` at the end.

    A failure (or an interruption) leaves ``path`` untouched, never half
    written.

    Parameters
    ----------
    path : str or path-like
        The final file, already checked with :func:`check_output`.
    write : callable
        ``write(temporary_path)`` writes the whole content.
    force : bool, default=False
        Whether ``path`` may be replaced if it has appeared in the meantime.

    Raises
    ------
    ValueError
        When ``path`` appeared while the content was produced and ``force``
        is off; the content is then left in the temporary file, named in the
        message.
    """
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.absolute().parent,
                                         prefix=f".{target.name}.",
                                         suffix=".part")
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, _default_mode())
    except BaseException:
        os.remove(temporary)
        raise
    if os.path.lexists(target) and not force:
        raise ValueError(f"{str(path)!r} was created by something else in the "
                         f"meantime; the output is in {temporary!r}.")
    os.replace(temporary, target)


_SEPARATOR_NAMES = {"\\t": "\t", "tab": "\t", "TAB": "\t", "semicolon": ";",
                    "comma": ",", "pipe": "|"}


def separator(text):
    """An argparse ``type``: one field-separator character.

    Parameters
    ----------
    text : str
        A single character, or ``\\t``/``tab``, ``comma``, ``semicolon``,
        ``pipe``.

    Returns
    -------
    str
        The character.
    """
    value = _SEPARATOR_NAMES.get(text, text)
    if len(value) != 1 or value in "\"\r\n":
        raise argparse.ArgumentTypeError(
            f"must be one character (or '\\t'); got {text!r}")
    return value
