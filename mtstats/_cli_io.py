"""Reading and checking the long-layout CSV file of ``mtstats report``.

Every problem is a :class:`ValueError` with a one-line message that names the
offending column, value and line of the file, raised before any fitting.
"""

from __future__ import annotations

import csv
import os

import pandas as pd

SEPARATORS = ",;\t|"
_SNIFF_BYTES = 16384


def sniff_separator(path):
    """The field separator of a CSV file, guessed among ``, ; TAB |``.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    str
        The separator :class:`csv.Sniffer` finds in the first lines, or ``","``
        when it finds none (e.g. a single-column file).
    """
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        sample = handle.read(_SNIFF_BYTES)
    if len(sample) == _SNIFF_BYTES and "\n" in sample:
        sample = sample[:sample.rindex("\n")]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except csv.Error:
        return ","


def _line_of_row(path, sep, row):
    """1-based line number in the file of data row ``row`` (0-based).

    Walks the file as pandas does (blank lines skipped, quoted fields may span
    lines); only called to word an error message.
    """
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle, delimiter=sep)
            index = -2  # the first non-blank record is the header
            for record in reader:
                index += bool(record)
                if record and index == row:
                    return reader.line_num
    except (OSError, csv.Error):
        pass
    return row + 2  # header on line 1, no blank or multi-line records


def _first_non_numeric(column):
    """Position and value of the first present cell that is not a number."""
    parsed = pd.to_numeric(column, errors="coerce")
    bad = (parsed.isna() & column.notna()).to_numpy().nonzero()[0]
    return (int(bad[0]), column.iloc[bad[0]]) if len(bad) else (None, None)


def _separator_hint(columns, sep):
    if len(columns) != 1:
        return ""
    for other in SEPARATORS:
        if other != sep and other in str(columns[0]):
            return (f" The header looks separated by {other!r}, not {sep!r}: "
                    f"pass --sep {other!r}.")
    return ""


def read_csv(path, task, sep=None):
    """Read the file, the task column as text (labels ``1`` and ``1.0`` differ).

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    task : str
        Name of the task column.
    sep : str or None, default=None
        Field separator; sniffed when None.

    Returns
    -------
    frame : DataFrame
    sep : str
        The separator used.
    """
    if os.path.isdir(path):
        raise ValueError(f"{str(path)!r} is a directory, not a CSV file.")
    sep = sniff_separator(path) if sep is None else sep
    try:
        frame = pd.read_csv(path, sep=sep, dtype={task: str})
    except pd.errors.EmptyDataError:
        raise ValueError(f"{str(path)!r} is empty.") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{str(path)!r} is not UTF-8 text ({error.reason} at "
                         f"byte {error.start}).") from None
    return frame, sep


def _check_numeric(frame, name, path, sep, what):
    """Raise when column ``name`` holds a value that is not a number."""
    if pd.api.types.is_numeric_dtype(frame[name]):
        return
    row, value = _first_non_numeric(frame[name])
    if row is None:  # e.g. booleans
        raise ValueError(f"{what} {name!r} is not numeric (dtype "
                         f"{frame[name].dtype}).")
    raise ValueError(f"{what} {name!r} is not numeric: {value!r} on line "
                     f"{_line_of_row(path, sep, row)} of {str(path)!r}.")


def _check_columns(frame, path, sep, task, target, features):
    columns = list(frame.columns)
    hint = _separator_hint(columns, sep)
    for role, name in (("task", task), ("target", target)):
        if name not in columns:
            raise ValueError(f"{role} column {name!r} is not in {str(path)!r}; "
                             f"its columns are {columns}.{hint}")
    if task == target:
        raise ValueError(f"the task and target columns are both {task!r}.")
    if features is None:
        features = [c for c in columns if c not in (task, target)]
    clash = [c for c in features if c in (task, target)]
    if clash:
        raise ValueError(f"--features lists {clash}, the task or target column.")
    missing = [c for c in features if c not in columns]
    if missing:
        raise ValueError(f"feature column(s) {missing} are not in "
                         f"{str(path)!r}; its columns are {columns}.{hint}")
    if not features:
        raise ValueError("no feature columns: the file has only the task and "
                         "target columns.")
    if frame.empty:
        raise ValueError(f"{str(path)!r} has no data rows, only a header.")
    for name in features:
        try:
            _check_numeric(frame, name, path, sep, "feature column")
        except ValueError as error:
            raise ValueError(f"{error} Encode it (one-hot, ordinal) or leave it "
                             "out with --features.") from None
    for name in [*features, target, task]:
        n_missing = int(frame[name].isna().sum())
        if n_missing:
            first = int(frame[name].isna().to_numpy().argmax())
            raise ValueError(
                f"column {name!r} has {n_missing} missing value(s), the first on "
                f"line {_line_of_row(path, sep, first)}; impute or remove those "
                "rows first.")
    return features


def is_classification(frame, target, kind, path, sep):
    """Whether the target calls for classifiers; checks it fits ``kind``.

    Parameters
    ----------
    frame : DataFrame
        The data, without missing values.
    target : str
        The target column.
    kind : {"auto", "regression", "classification"}
        Auto: classification when the target has two distinct values.
    path : str or path-like
        The file, for the messages.
    sep : str
        Its separator, for the line numbers in the messages.

    Returns
    -------
    bool

    Raises
    ------
    ValueError
        A regression target that is not numeric, or a classification target
        without exactly two distinct values.
    """
    y = frame[target]
    values = y.drop_duplicates()
    n_values = len(values)
    listing = ", ".join(repr(v) for v in values.head(3).tolist())
    listing += ", ..." if n_values > 3 else ""
    numeric = pd.api.types.is_numeric_dtype(y)
    if kind == "classification" or (kind == "auto" and not numeric):
        if n_values == 2:
            return True
        row, value = _first_non_numeric(y)
        reason = ("--kind classification needs" if kind == "classification" else
                  f"target column {target!r} is not numeric ({value!r} on line "
                  f"{_line_of_row(path, sep, row)}); a classifier needs")
        raise ValueError(f"{reason} a target with exactly two distinct values; "
                         f"{target!r} has {n_values} ({listing}).")
    if kind == "regression":
        try:
            _check_numeric(frame, target, path, sep, "target column")
        except ValueError as error:
            raise ValueError(f"--kind regression needs a numeric target: "
                             f"{error}") from None
        return False
    return n_values == 2


def load_long_csv(path, task, target, features=None, *, kind="auto", sep=None,
                  min_rows=2, drop_small_tasks=False):
    """Read a long-layout CSV and check everything the report will need.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    task, target : str
        Names of the task and target columns.
    features : list of str or None, default=None
        Feature columns; every other column when None.
    kind : {"auto", "regression", "classification"}, default="auto"
        What the target must be (see :func:`is_classification`).
    sep : str or None, default=None
        Field separator; sniffed when None.
    min_rows : int, default=2
        Fewest rows a task needs.
    drop_small_tasks : bool, default=False
        Leave out smaller tasks instead of raising.

    Returns
    -------
    X : DataFrame
        The features, then the task column (text: labels ``1`` and ``1.0``
        stay two tasks).
    y : Series
    dropped : list
        The tasks left out.
    classification : bool

    Raises
    ------
    ValueError
        For every problem in the file, naming the value and its line.
    """
    frame, sep = read_csv(path, task, sep)
    features = _check_columns(frame, path, sep, task, target, features)
    classification = is_classification(frame, target, kind, path, sep)
    sizes = frame[task].value_counts()
    small = sizes[sizes < min_rows]
    if len(small):
        listing = ", ".join(f"{t!r} ({n} rows)" for t, n in small.items())
        if not drop_small_tasks:
            raise ValueError(
                f"{len(small)} task(s) have fewer than {min_rows} rows, too few "
                f"for the cross-validation: {listing}. Pass --drop-small-tasks to "
                "leave them out (they are then listed in the report).")
        frame = frame[~frame[task].isin(small.index)]
        if frame.empty:
            raise ValueError(f"every task has fewer than {min_rows} rows.")
    return (frame[[*features, task]], frame[target], list(small.index),
            classification)
