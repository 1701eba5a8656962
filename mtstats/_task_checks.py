"""Checks of the validated data: task sizes, classes per task, class labels.

Every task needs an observed target with positive weight, and a classifier
needs both classes in every task unless its intercept is penalised (a
one-class task with a free intercept has no finite fit). Messages name the
task.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from ._labels import check_one_kind, label_repr, observed_class_labels

#: Fewest observed targets (with positive weight) a task may have.
MIN_SAMPLES_PER_TASK = 1


def _check_task_sizes(counts, tasks, all_counts=None):
    """Every task needs observed targets; ``all_counts``: the counts before
    the rows of zero ``sample_weight`` were dropped."""
    for t, count in enumerate(counts):
        if count < MIN_SAMPLES_PER_TASK and all_counts is not None and (
                all_counts[t] > count):
            raise ValueError(
                f"Task {label_repr(tasks[t])} has sample_weight 0 on all of its "
                f"{int(all_counts[t])} observed targets, so its weighted mean "
                "loss is undefined (0/0); give some of its rows a positive "
                "weight or drop the task.")
        if count < MIN_SAMPLES_PER_TASK:
            plural = "" if count == 1 else "s"
            raise ValueError(
                f"Task {label_repr(tasks[t])} has {count} sample{plural} with an "
                f"observed target; every task needs at least {MIN_SAMPLES_PER_TASK}."
            )


def _intercepts_bounded(estimator):
    """Whether a one-class task keeps a finite intercept: intercepts shrunk
    towards a common one (``intercept_shrinkage`` not 0) or not fitted."""
    shrinkage = getattr(estimator, "intercept_shrinkage", 0.0)
    return (not getattr(estimator, "fit_intercept", True)
            or isinstance(shrinkage, str) or shrinkage > 0)


def _check_classes_per_task(positives, counts, tasks, classes, estimator=None):
    """Both classes overall; per task only where its intercept is unpenalised.

    An unpenalised intercept of a task whose labels are all one class goes
    to infinity, so such a task is refused unless the intercepts are shrunk
    towards a common intercept (``intercept_shrinkage``).
    """
    n_positive, n_total = int(positives.sum()), int(counts.sum())
    if n_positive in (0, n_total):
        only = classes[1] if n_positive else classes[0]
        raise ValueError(f"y has only one class ({label_repr(only)}) among its "
                         f"{n_total} labels; a classifier needs both classes.")
    if estimator is not None and _intercepts_bounded(estimator):
        return
    for t in np.flatnonzero((positives == 0) | (positives == counts)):
        only = classes[1] if positives[t] else classes[0]
        raise ValueError(
            f"Task {label_repr(tasks[t])} has only one class ({label_repr(only)}) "
            f"among its {int(counts[t])} labels: its unpenalised intercept would "
            "be infinite. Shrink the intercepts towards a common one "
            "(intercept_shrinkage='auto' or > 0), or drop the task."
        )


def _check_class_labels(labels, all_observed):
    """Refuse missing or mixed-type class labels, then sklearn's target check.

    ``all_observed``: every entry must be a label (1-D y, long layout).
    """
    missing = ~observed_class_labels(labels.reshape(labels.shape[0], -1))
    if all_observed and missing.any():
        row = int(np.flatnonzero(missing.any(axis=1))[0])
        raise ValueError(
            f"y has {int(missing.sum())} missing label(s) (None/NaN), the first "
            f"at row {row}. A missing label is allowed only in a 2-D Y (wide "
            "layout, one column per task), where None or NaN marks an "
            "unobserved entry; in a 1-D y, drop those rows."
        )
    values = labels[~missing.reshape(labels.shape)]
    check_one_kind(values, "y")
    check_classification_targets(values)
