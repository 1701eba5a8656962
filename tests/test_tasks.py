"""Input layouts and bad input: every problem gets a ValueError naming it."""

import numpy as np
import pandas as pd
import pytest

from mtstats import (
    GroupLassoClassifier,
    GroupLassoRegressor,
    IndependentRegressor,
    PooledRegressor,
    TraceNormRegressor,
)
from mtstats._tasks import encode_tasks, split_task_column, task_weights


@pytest.fixture
def long_frame(rng):
    n = 60
    frame = pd.DataFrame(rng.standard_normal((n, 3)), columns=["a", "b", "c"])
    frame["school"] = np.repeat(["north", "south", "east"], n // 3)
    y = frame["a"] - frame["b"] + rng.standard_normal(n)
    return frame, y


def test_split_task_column_by_name_and_position(long_frame):
    frame, _ = long_frame
    features, tasks = split_task_column(frame, "school")
    assert list(features.columns) == ["a", "b", "c"]
    assert tasks[0] == "north"
    features, tasks = split_task_column(frame.to_numpy(), 3)
    assert features.shape == (60, 3) and tasks[-1] == "east"
    features, tasks = split_task_column(frame, -1)
    assert list(features.columns) == ["a", "b", "c"]


def test_encode_tasks_sorts_labels_and_keeps_types():
    tasks, index = encode_tasks(["b", "a", "b", "c"])
    assert list(tasks) == ["a", "b", "c"] and list(index) == [1, 0, 1, 2]
    tasks, _ = encode_tasks([3, 1, 2, 1])
    assert tasks.dtype.kind == "i"
    tasks, index = encode_tasks([True, False, True])
    assert list(tasks) == [False, True] and tasks.dtype == object


@pytest.mark.parametrize("labels", [["x", 1, "x"], [True, 1, 1, True], [1, 1.5],
                                    [np.int64(2), "2"]])
def test_encode_tasks_refuses_mixed_label_types(labels):
    """Regression test: True and 1 were merged into one task."""
    with pytest.raises(ValueError, match="mixes label types"):
        encode_tasks(np.array(labels, dtype=object))


def test_task_weights():
    n_t = np.array([3, 5])
    np.testing.assert_array_equal(task_weights(None, n_t), [1, 1])
    np.testing.assert_array_equal(task_weights("n_samples", n_t), [3, 5])
    with pytest.raises(ValueError, match="2 tasks"):
        task_weights([1, 2, 3], n_t)
    with pytest.raises(ValueError, match="non-negative"):
        task_weights([1, -2], n_t)


def test_long_layout_accepts_string_tasks_and_exposes_them(long_frame):
    frame, y = long_frame
    est = TraceNormRegressor(alpha=0.01, task_column="school").fit(frame, y)
    assert list(est.tasks_) == ["east", "north", "south"]
    assert est.coef_.shape == (3, 3) and est.intercept_.shape == (3,)
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    assert est.predict(frame).shape == (60,)


def test_wide_layout_takes_task_names_from_a_frame(rng):
    X = rng.standard_normal((30, 4))
    Y = pd.DataFrame(rng.standard_normal((30, 2)), columns=["math", "art"])
    est = GroupLassoRegressor(alpha=0.01).fit(X, Y)
    assert list(est.tasks_) == ["math", "art"]
    assert est.predict(X).shape == (30, 2)


# ---------------------------------------------------------------- bad input


def test_nan_in_X_is_rejected(rng):
    X = rng.standard_normal((20, 3))
    X[4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GroupLassoRegressor().fit(X, rng.standard_normal((20, 2)))


def test_inf_in_X_is_rejected(rng):
    X = rng.standard_normal((20, 3))
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        GroupLassoRegressor().fit(X, rng.standard_normal((20, 2)))


def test_nan_in_X_long_layout_is_rejected(long_frame):
    frame, y = long_frame
    frame.loc[3, "b"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GroupLassoRegressor(task_column="school").fit(frame, y)


def test_shape_mismatch_is_rejected(rng, long_frame):
    with pytest.raises(ValueError, match="20 rows but y has 19"):
        GroupLassoRegressor().fit(rng.standard_normal((20, 3)),
                                  rng.standard_normal((19, 2)))
    frame, y = long_frame
    with pytest.raises(ValueError, match="60 rows but y has 59"):
        GroupLassoRegressor(task_column="school").fit(frame, y[:-1])


def test_predict_with_wrong_number_of_features_is_rejected(rng):
    est = GroupLassoRegressor().fit(rng.standard_normal((20, 3)),
                                    rng.standard_normal((20, 2)))
    with pytest.raises(ValueError, match="3 features"):
        est.predict(rng.standard_normal((5, 4)))


def test_task_with_one_sample_fits(long_frame):
    """A one-row task is kept (issue 9): its intercept is its target without
    shrinkage, and moves towards the others' with it."""
    frame, y = long_frame
    frame.loc[0, "school"] = "tiny"
    est = TraceNormRegressor(task_column="school").fit(frame, y)
    tiny = list(est.tasks_).index("tiny")
    assert est.n_samples_per_task_[tiny] == 1
    # an unpenalised intercept fits a one-row task exactly
    assert est.predict(frame.iloc[[0]])[0] == pytest.approx(y.iloc[0], abs=1e-6)
    # with common slopes and summed losses (the mixed model's weighting) the
    # shrunk intercept moves from its own value towards the others'
    free = PooledRegressor(task_column="school", task_weight="n_samples").fit(
        frame, y)
    shrunk = PooledRegressor(task_column="school", task_weight="n_samples",
                             intercept_shrinkage=5.0).fit(frame, y)
    others = np.delete(shrunk.intercept_, tiny).mean()
    own = free.intercept_[tiny]
    assert min(own, others) < shrunk.intercept_[tiny] < max(own, others)
    assert abs(shrunk.intercept_[tiny] - others) < 0.5 * abs(own - others)


def test_wide_task_with_no_observed_label_is_rejected(rng):
    Y = rng.standard_normal((20, 3))
    Y[:, 2] = np.nan
    with pytest.raises(ValueError, match="Task 2 has 0 samples"):
        GroupLassoRegressor().fit(rng.standard_normal((20, 3)), Y)
    Y[0, 2] = 1.0  # one observed label: fitted
    GroupLassoRegressor().fit(rng.standard_normal((20, 3)), Y)


def test_classification_task_with_one_class_is_rejected(long_frame):
    frame, _ = long_frame
    labels = np.where(np.arange(60) % 2 == 0, "yes", "no")
    labels[frame["school"] == "south"] = "yes"
    with pytest.raises(ValueError, match="Task 'south' has only one class"):
        GroupLassoClassifier(task_column="school").fit(frame, labels)
    # with the intercepts shrunk together the task is fitted
    est = GroupLassoClassifier(task_column="school",
                               intercept_shrinkage="auto").fit(frame, labels)
    assert np.all(np.isfinite(est.intercept_))


def test_wide_classification_task_with_one_class_is_rejected(rng):
    Y = (rng.random((30, 2)) < 0.5).astype(float)
    Y[:, 1] = 1.0
    with pytest.raises(ValueError, match="Task 1 has only one class"):
        GroupLassoClassifier().fit(rng.standard_normal((30, 3)), Y)


def test_multiclass_is_rejected(rng):
    with pytest.raises(ValueError, match="Only binary classification.*3 classes"):
        GroupLassoClassifier().fit(rng.standard_normal((30, 3)), np.arange(30) % 3)


def test_unknown_task_at_predict_time_is_rejected(long_frame):
    frame, y = long_frame
    est = TraceNormRegressor(task_column="school").fit(frame, y)
    new = frame.head(3).assign(school=["north", "west", "west"])
    with pytest.raises(ValueError, match=r"Unknown task\(s\) \['west'\]"):
        est.predict(new)


def test_missing_task_column_is_rejected(long_frame):
    frame, y = long_frame
    with pytest.raises(ValueError, match="task_column='district' is not a column"):
        TraceNormRegressor(task_column="district").fit(frame, y)
    est = TraceNormRegressor(task_column="school").fit(frame, y)
    with pytest.raises(ValueError, match="task_column='school' is not a column"):
        est.predict(frame.drop(columns="school"))
    with pytest.raises(ValueError, match="not a DataFrame"):
        TraceNormRegressor(task_column="school").fit(frame.to_numpy(), y)
    with pytest.raises(ValueError, match="not a column position"):
        TraceNormRegressor(task_column=7).fit(frame.to_numpy(), y)


def test_missing_task_label_is_rejected(long_frame):
    frame, y = long_frame
    frame["school"] = frame["school"].astype(object)
    frame.loc[5, "school"] = None
    with pytest.raises(ValueError, match="task column contains missing values"):
        TraceNormRegressor(task_column="school").fit(frame, y)


def test_nan_in_single_task_y_is_rejected(rng):
    y = rng.standard_normal(20)
    y[3] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        IndependentRegressor().fit(rng.standard_normal((20, 3)), y)


def test_inf_in_y_is_rejected(rng):
    Y = rng.standard_normal((20, 2))
    Y[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        GroupLassoRegressor().fit(rng.standard_normal((20, 3)), Y)


def test_invalid_hyperparameters_are_rejected(rng):
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    with pytest.raises(ValueError, match="'alpha' parameter"):
        GroupLassoRegressor(alpha=-1).fit(X, Y)
    with pytest.raises(ValueError, match="'device' parameter"):
        GroupLassoRegressor(device="tpu").fit(X, Y)
    with pytest.raises(ValueError, match="'penalty' parameter"):
        IndependentRegressor(penalty="l0").fit(X, Y)
    with pytest.raises(ValueError, match="task_weight has 3 entries but there are 2"):
        GroupLassoRegressor(task_weight=[1, 2, 3]).fit(X, Y)
