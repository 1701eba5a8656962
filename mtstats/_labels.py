"""Task and class labels: encoded without ever merging two distinct labels.

Python compares ``True == 1 == 1.0`` and hashes them alike, so a dictionary or
``np.unique`` over mixed labels silently merges them (a task column holding
``True`` and ``1`` once became one task). Labels here therefore carry a
*kind* (bool, integer, float, text, or the type name), and a column of task
or class labels must hold a single kind.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_KINDS = ((bool, np.bool_), "bool"), ((int, np.integer), "integer"), \
    ((float, np.floating), "float"), ((str, np.str_), "text")


def label_repr(value):
    """``repr`` of a task or class label without NumPy scalar decoration."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def label_kind(value):
    """The kind of a label: 'bool', 'integer', 'float', 'text' or a type name."""
    for types, kind in _KINDS:
        if isinstance(value, types):
            return kind
    return type(value).__name__


def is_missing(value):
    """Whether a label is missing: None, NaN, ``pd.NA`` or ``pd.NaT``."""
    if value is None:
        return True
    return np.ndim(value) == 0 and bool(pd.isna(value))


def check_one_kind(values, what):
    """Refuse a column of labels that mixes kinds (e.g. ``True`` and ``1``).

    Parameters
    ----------
    values : array-like
        Labels; only an object array can mix kinds.
    what : str
        What the labels are, for the message ("The task column", "y").
    """
    values = np.asarray(values)
    if values.dtype != object:
        return
    examples = {}
    for value in values.ravel().tolist():
        examples.setdefault(label_kind(value), value)
    if len(examples) > 1:
        listing = ", ".join(f"{kind} ({label_repr(v)})" for kind, v in examples.items())
        raise ValueError(
            f"{what} mixes label types: {listing}. Labels of different types are "
            "ambiguous (in Python True == 1 == 1.0, so such labels would be "
            "merged); convert the column to one type first, e.g. .astype(str)."
        )


def encode_tasks(task_values, known_tasks=None, allow_unknown=False):
    """Map raw task labels to indices ``0..n_tasks-1``.

    With ``known_tasks`` (prediction time) every label must be among them and
    of their kind, unless ``allow_unknown``, which gives unknown labels the
    index -1; otherwise the sorted unique labels become the tasks. A column
    whose labels are all integral numbers gets integer task labels (``3.0``
    becomes ``3``).

    Raises
    ------
    ValueError
        On missing labels, labels of mixed types, or (prediction time)
        unknown labels.
    """
    raw = np.asarray(task_values)
    if raw.dtype.kind in "biufU":  # one dtype: label the distinct values only
        distinct, inverse = np.unique(raw, return_inverse=True)
        known_tasks, index = _encode_object(distinct.astype(object), known_tasks,
                                            allow_unknown)
        return known_tasks, index[inverse.reshape(-1)]
    return _encode_object(np.asarray(task_values, dtype=object), known_tasks,
                          allow_unknown)


def _encode_object(values, known_tasks, allow_unknown):
    """:func:`encode_tasks` on an object array, one Python step per entry."""
    if any(is_missing(v) for v in values):
        raise ValueError("The task column contains missing values (None/NaN).")
    check_one_kind(values, "The task column")
    distinct = list(dict.fromkeys((label_kind(v), v) for v in values.tolist()))
    if known_tasks is None:
        uniques = [v for _, v in distinct]
        try:
            uniques = sorted(uniques)
        except TypeError:  # unorderable labels keep their first-appearance order
            pass
        known_tasks = np.empty(len(uniques), dtype=object)
        known_tasks[:] = uniques
        if all(label_kind(t) in ("integer", "float") and float(t).is_integer()
               for t in uniques):
            known_tasks = known_tasks.astype(np.int64)
    known = known_tasks.tolist()
    lookup = {(_numeric_kind(t), t): i for i, t in enumerate(known)}
    unknown = [v for kind, v in distinct if (_numeric_kind(v), v) not in lookup]
    if unknown and not allow_unknown:
        raise ValueError(
            f"Unknown task(s) {unknown[:10]} at prediction time; the model was "
            f"fitted on tasks {known[:20]}. In cross-validation, split with "
            "mtstats.model_selection.TaskStratifiedKFold so that every fold "
            "holds every task."
        )
    index = np.fromiter(
        (lookup.get((_numeric_kind(v), v), -1) for v in values.tolist()),
        dtype=np.int64, count=values.shape[0])
    return known_tasks, index


def _numeric_kind(value):
    """Kind for matching at prediction time: integers and floats are numbers
    (a task ``3`` fitted from ``3.0`` is predicted for ``3.0``), bools are not."""
    kind = label_kind(value)
    return "number" if kind in ("integer", "float") else kind


def observed_class_labels(Y):
    """Mask of observed entries of a 2-D object array of class labels.

    ``None``, NaN and ``pd.NA`` mark unobserved labels, as NaN does in a
    float ``Y``.
    """
    return ~pd.isna(pd.DataFrame(Y)).to_numpy()


def encode_classes(labels, classes=None):
    """Encode binary labels as 0/1 against ``classes`` (found if None)."""
    if classes is None:
        check_one_kind(labels, "y")
        classes = np.unique(labels)
    if classes.shape[0] < 2:
        raise ValueError(
            f"Only one class ({label_repr(classes[0])}) is present in y; a binary "
            "classifier needs two classes."
        )
    if classes.shape[0] > 2:
        raise ValueError(
            "Only binary classification is supported: mtstats classifiers "
            f"model two classes shared by all tasks, and y has "
            f"{classes.shape[0]} classes: {list(classes[:10])}."
        )
    return classes, (labels == classes[1]).astype(np.float64)
