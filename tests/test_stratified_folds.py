"""Task (and task x class) stratified folds: invariants on generated data.

Every check is a property of the folds that follows from the splitting rule
(test folds partition the splittable rows, every task in every training fold,
classes balanced, too-small strata only trained on), computed from the data,
never a number the splitter produced.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold, cross_val_score

import mtstats
from mtstats.model_selection import RepeatedTaskStratifiedKFold, TaskStratifiedKFold

K = 4
#: (rows of class 0, rows of class 1) per task: "rare" has 2 < K rows of
#: class 1, "tiny" and "wee" fewer than K rows in all.
SIZES = {"t0": (9, 14), "t1": (20, 5), "t2": (7, 7), "t3": (30, 12),
         "rare": (15, 2), "tiny": (1, 2), "wee": (2, 0)}
BIG = {task: counts for task, counts in SIZES.items() if min(counts) >= K}


def long_data(seed=0, sizes=SIZES):
    """Long layout: a DataFrame with a text task column, shuffled rows."""
    rng = np.random.default_rng(seed)
    tasks = np.concatenate([[t] * sum(n) for t, n in sizes.items()])
    y = np.concatenate([np.repeat([0, 1], n) for n in sizes.values()])
    order = rng.permutation(len(y))
    X = pd.DataFrame(rng.standard_normal((len(y), 3)), columns=["a", "b", "c"])
    X["task"] = tasks[order]
    return X, y[order]


def wide_data(seed=0):
    """Wide layout with one observed task per row (the long data, unstacked)."""
    X, y = long_data(seed)
    Y = pd.DataFrame(np.nan, index=X.index, columns=list(SIZES))
    for task in SIZES:
        rows = X["task"] == task
        Y.loc[rows, task] = y[rows]
    return X[["a", "b", "c"]].to_numpy(), Y


def layout(kind, seed=0):
    """``(X, y, task_column, task_of_row, label_of_row)`` of one layout."""
    if kind == "long":
        X, y = long_data(seed)
        return X, y, "task", X["task"].to_numpy(), y
    X, Y = wide_data(seed)
    task = Y.notna().to_numpy().argmax(axis=1)
    return X, Y, None, np.array(list(SIZES))[task], Y.to_numpy()[np.arange(len(Y)),
                                                                  task]


def only_trained(tasks, labels, stratify):
    """Rows the rule keeps out of every test fold, from the data alone."""
    frame = pd.DataFrame({"task": tasks, "label": labels})
    keys = ["task"] if stratify == "task" else ["task", "label"]
    return (frame.groupby(keys)["task"].transform("size") < K).to_numpy()


def splits_of(splitter, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return list(splitter.split(X, y))


def check_partition(splits, n_rows, held_out):
    """Test folds partition the rows not in ``held_out``; train = the rest."""
    tests = np.concatenate([test for _, test in splits])
    assert len(tests) == len(np.unique(tests))  # no row tested twice
    np.testing.assert_array_equal(np.sort(tests), np.flatnonzero(~held_out))
    for train, test in splits:
        assert np.intersect1d(train, test).size == 0
        np.testing.assert_array_equal(np.union1d(train, test), np.arange(n_rows))
        assert np.all(np.isin(np.flatnonzero(held_out), train))


@pytest.mark.parametrize("stratify", ["task", "task_label"])
@pytest.mark.parametrize("kind", ["long", "wide"])
def test_folds_partition_the_splittable_rows_and_keep_every_task(kind, stratify):
    X, y, column, tasks, labels = layout(kind)
    cv = TaskStratifiedKFold(K, task_column=column, stratify=stratify,
                             random_state=0)
    splits = splits_of(cv, X, y)
    assert len(splits) == K == cv.get_n_splits()
    held_out = only_trained(tasks, labels, stratify)
    check_partition(splits, len(tasks), held_out)
    for train, test in splits:
        assert set(tasks[train]) == set(SIZES)  # (b) every task trains
        # every task with K splittable rows is tested in every fold
        tested = pd.Series(tasks[~held_out]).value_counts()
        assert set(tested[tested >= K].index) <= set(tasks[test])


@pytest.mark.parametrize("kind", ["long", "wide"])
def test_label_stratification_balances_classes(kind):
    X, y, column, tasks, labels = layout(kind)
    cv = TaskStratifiedKFold(K, task_column=column, stratify="task_label",
                             random_state=1)
    splits = splits_of(cv, X, y)
    for task, (n0, n1) in SIZES.items():
        for label, n in ((0, n0), (1, n1)):
            cell = (tasks == task) & (labels == label)
            in_test = [np.sum(cell[test]) for _, test in splits]
            if n >= K:  # spread evenly, both classes in every train and test
                assert max(in_test) - min(in_test) <= 1 and sum(in_test) == n
                assert all(np.sum(cell[train]) > 0 for train, _ in splits)
                assert min(in_test) > 0
            else:  # too few to split: in every training fold, never tested
                assert sum(in_test) == 0
                assert all(np.sum(cell[train]) == n for train, _ in splits)
    for task in SIZES:  # a task with both classes keeps both in training
        if min(SIZES[task]) > 0:
            for train, _ in splits:
                assert set(labels[train][tasks[train] == task]) == {0, 1}


def test_task_stratification_spreads_every_task_evenly():
    X, y = long_data(2)
    tasks = X["task"].to_numpy()
    splits = splits_of(TaskStratifiedKFold(K, task_column="task", random_state=2),
                       X, y)
    for task, counts in SIZES.items():
        in_test = [np.sum(tasks[test] == task) for _, test in splits]
        if sum(counts) >= K:
            assert max(in_test) - min(in_test) <= 1 and sum(in_test) == sum(counts)


@pytest.mark.parametrize("stratify", ["task", "task_label"])
@pytest.mark.parametrize("kind", ["long", "wide"])
def test_too_small_tasks_are_only_trained_on_and_named(kind, stratify):
    X, y, column, tasks, labels = layout(kind)
    cv = TaskStratifiedKFold(K, task_column=column, stratify=stratify,
                             random_state=0)
    with pytest.warns(UserWarning) as record:
        splits = list(cv.split(X, y))
    assert len(record) == 1
    message = str(record[0].message)
    small = {t for t, n in SIZES.items() if sum(n) < K}
    if stratify == "task_label":
        small |= {t for t, n in SIZES.items() if min(n) < K}
    for task in SIZES:
        assert (repr(task) in message) == (task in small)
    assert "only trained on" in message and "every training fold" in message
    rows = np.isin(tasks, list(small)) & only_trained(tasks, labels, stratify)
    for train, test in splits:
        assert np.all(np.isin(np.flatnonzero(rows), train))
        assert not np.any(np.isin(np.flatnonzero(rows), test))


def test_warning_lists_the_first_ten_tasks_only():
    sizes = {"big0": (8, 8), "big1": (8, 8),
             **{f"s{i:02d}": (1, 1) for i in range(12)}}
    X, y = long_data(0, sizes)
    with pytest.warns(UserWarning, match=r"s09'\] and 2 more") as record:
        list(TaskStratifiedKFold(K, task_column="task").split(X, y))
    assert "s10" not in str(record[0].message)


@pytest.mark.parametrize("stratify", ["task", "task_label"])
def test_no_small_stratum_no_warning_and_same_folds_as_stratified_kfold(stratify):
    X, y = long_data(3, BIG)
    strata = (X["task"] if stratify == "task" else X["task"] + y.astype(str))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = list(TaskStratifiedKFold(K, task_column="task", stratify=stratify,
                                        random_state=5).split(X, y))
    theirs = StratifiedKFold(K, shuffle=True, random_state=5).split(X, strata)
    for (train, test), (train2, test2) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(train, train2)
        np.testing.assert_array_equal(test, test2)


def test_wide_layout_with_overlapping_labels():
    """Rows observing a task with < K labels are only trained on; the others
    are tested once, and every task is observed in every training fold."""
    rng = np.random.default_rng(4)
    Y = rng.integers(0, 2, (90, 4)).astype(float)
    Y[rng.random(Y.shape) < 0.3] = np.nan
    Y[:, 3] = np.nan
    Y[[5, 17], 3] = [0.0, 1.0]  # task 3: two labels
    X = rng.standard_normal((90, 2))
    for stratify in ("task", "task_label"):
        cv = TaskStratifiedKFold(K, stratify=stratify, random_state=0)
        with pytest.warns(UserWarning, match=r"task\(s\) \[3\]"):
            splits = list(cv.split(X, Y))
        held_out = np.isin(np.arange(90), [5, 17])
        if stratify == "task_label":  # cells with < K labels: none here but 3
            counts = {(t, c): np.sum(Y[:, t] == c) for t in range(3) for c in (0, 1)}
            assert min(counts.values()) >= K
        check_partition(splits, 90, held_out)
        for train, _ in splits:
            assert np.all(np.any(~np.isnan(Y[train]), axis=0))


@pytest.mark.parametrize("kind", ["long", "wide"])
def test_repeats_differ_and_are_reproducible(kind):
    X, y, column, tasks, labels = layout(kind)
    make = dict(n_splits=K, n_repeats=3, task_column=column, stratify="task_label")
    cv = RepeatedTaskStratifiedKFold(**make, random_state=0)
    assert cv.get_n_splits() == 3 * K
    with pytest.warns(UserWarning) as record:  # one warning for all repeats
        first = list(cv.split(X, y))
    assert len(record) == 1
    second = splits_of(RepeatedTaskStratifiedKFold(**make, random_state=0), X, y)
    other = splits_of(RepeatedTaskStratifiedKFold(**make, random_state=1), X, y)
    assert len(first) == 3 * K
    held_out = only_trained(tasks, labels, "task_label")
    for r in range(3):
        check_partition(first[r * K:(r + 1) * K], len(tasks), held_out)
    for (a, b), (c, d) in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    tests = [tuple(test) for _, test in first]
    assert len(set(tests[:K]) & set(tests[K:2 * K])) < K  # repeats differ
    assert [tuple(t) for _, t in other] != tests


def test_classifier_cv_twin_fits_with_a_tiny_task_and_a_rare_class():
    sizes = {task: n for task, n in SIZES.items() if min(n) > 0}  # two classes
    X, y = long_data(5, sizes)
    y = np.where(y == 1, "yes", "no")
    twin = mtstats.GroupLassoClassifierCV(task_column="task", alphas=3, cv=K,
                                          random_state=0)
    with pytest.warns(UserWarning, match="only trained on"):
        twin.fit(X, y)
    assert set(twin.tasks_) == set(sizes)
    assert np.all(np.isfinite(twin.scores_path_))
    assert twin.predict_proba(X).shape == (len(y), 2)


@pytest.mark.parametrize("repeated", [False, True])
def test_cross_val_score_accepts_the_splitter(repeated):
    X, y = long_data(6, BIG)
    cv = (RepeatedTaskStratifiedKFold(n_splits=3, n_repeats=2, task_column="task",
                                      stratify="task_label", random_state=0)
          if repeated else
          TaskStratifiedKFold(3, task_column="task", stratify="task_label",
                              random_state=0))
    scores = cross_val_score(mtstats.GroupLassoClassifier(0.05, task_column="task"),
                             X, y, cv=cv)
    assert scores.shape == (6 if repeated else 3,)
    assert np.all((scores >= 0) & (scores <= 1))


def test_bad_settings_raise_clear_errors():
    X, y = long_data(0)
    with pytest.raises(ValueError, match="stratify must be one of"):
        next(TaskStratifiedKFold(K, task_column="task", stratify="label").split(X, y))
    with pytest.raises(ValueError, match="needs the class labels"):
        TaskStratifiedKFold(K, task_column="task", stratify="task_label").split(X)
    with pytest.raises(ValueError, match="continuous"):
        TaskStratifiedKFold(K, task_column="task", stratify="task_label").split(
            X, np.random.default_rng(0).standard_normal(len(y)))
    with pytest.raises(ValueError, match="nothing can be split"):
        TaskStratifiedKFold(50, task_column="task").split(X, y)
