r"""Preprocessing that leaves the task column alone.

In the long layout the task of every row is a column of ``X``. A scaler in a
pipeline must transform the feature columns and pass that column through
unchanged -- same name, same position, same labels -- so that the estimator
after it still finds the tasks by ``task_column``:

>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from mtstats import TraceNormRegressorCV
>>> from mtstats.datasets import make_multitask_regression
>>> from mtstats.preprocessing import TaskColumnTransformer
>>> X, y, _ = make_multitask_regression(n_tasks=4, n_features=3, as_frame=True,
...                                     random_state=0)
>>> pipe = make_pipeline(
...     TaskColumnTransformer(StandardScaler(), task_column="task"),
...     TraceNormRegressorCV(task_column="task", alphas=5, cv=3, random_state=0))
>>> pipe.fit(X, y).predict(X).shape == y.shape
True

Tuning then happens on the transformed data: the ``*CV`` estimator computes
its ``alpha`` grid (which scales with the features) from the scaled columns.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ._tasks import split_task_column

__all__ = ["TaskColumnTransformer"]


class TaskColumnTransformer(TransformerMixin, BaseEstimator):
    r"""Transform the feature columns; pass the task column through unchanged.

    ``transformer`` is fitted on ``X`` without its task column; the output
    puts the task column back at its position (counted from the end when
    ``task_column`` is a negative integer, so ``-1`` stays last) with its name
    and its labels. A DataFrame comes out as a DataFrame with the same index.
    With ``task_column=None`` (wide layout) it is ``transformer`` itself.

    Parameters
    ----------
    transformer : transformer or None, default=None
        Any scikit-learn transformer of the features; ``None`` is
        ``StandardScaler()``: every feature gets
        :math:`(x - \bar x) / s_x` over all rows (all tasks pooled).
    task_column : str, int or None, default=None
        The task column of ``X``, as given to the mtstats estimators.

    Attributes
    ----------
    transformer_ : transformer
        The fitted clone of ``transformer``.
    n_features_in_ : int
        Number of columns of ``X``, the task column included.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` is a DataFrame.

    See Also
    --------
    sklearn.compose.ColumnTransformer : the general tool (it reorders
        columns, which breaks an integer ``task_column``).

    Examples
    --------
    >>> import pandas as pd
    >>> from mtstats.preprocessing import TaskColumnTransformer
    >>> X = pd.DataFrame({"age": [10.0, 20.0, 30.0], "school": ["a", "b", "a"]})
    >>> TaskColumnTransformer(task_column="school").fit_transform(X)
            age school
    0 -1.224745      a
    1  0.000000      b
    2  1.224745      a
    """

    def __init__(self, transformer=None, *, task_column=None):
        self.transformer = transformer
        self.task_column = task_column

    def _split(self, X):
        if self.task_column is None:
            return X, None
        return split_task_column(X, self.task_column)

    def fit(self, X, y=None):
        """Fit the transformer on the feature columns.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_columns)
            Features and the task column.
        y : array-like, optional
            Passed to the transformer's ``fit``.

        Returns
        -------
        self : object
        """
        features, _ = self._split(X)
        self.transformer_ = clone(self.transformer if self.transformer is not None
                                  else StandardScaler()).fit(features, y)
        n_columns = np.shape(X)[1]
        self.n_features_in_ = n_columns
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        columns = list(getattr(X, "columns", range(n_columns)))
        if self.task_column is None:
            self._task_position = None
        elif self.task_column in columns and not isinstance(self.task_column, int):
            self._task_position = columns.index(self.task_column)
        else:
            self._task_position = int(self.task_column) % n_columns
        self._task_name = (columns[self._task_position]
                           if self.task_column is not None and hasattr(X, "columns")
                           else None)
        return self

    def _output_position(self, n_out):
        """Where the task column goes among ``n_out`` transformed features:
        counted from the end for a negative ``task_column``, else its input
        position (at most ``n_out``)."""
        if isinstance(self.task_column, (int, np.integer)) and self.task_column < 0:
            return max(n_out + 1 + int(self.task_column), 0)
        return min(self._task_position, n_out)

    def transform(self, X):
        """Transform the features and put the task column back.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_columns)
            Features and the task column, as in ``fit``.

        Returns
        -------
        X_out : ndarray or DataFrame
            The transformed features with the task column at its place.
        """
        check_is_fitted(self)
        features, tasks = self._split(X)
        out = self.transformer_.transform(features)
        if tasks is None:
            return out
        values = np.asarray(out)
        position = self._output_position(values.shape[1])
        if hasattr(X, "columns"):
            import pandas as pd

            names = self.get_feature_names_out()
            names = np.delete(names, position)
            frame = pd.DataFrame(values, columns=names, index=X.index)
            frame.insert(position, X.columns[self._task_position],
                         X.iloc[:, self._task_position].to_numpy())
            return frame
        tasks = np.asarray(tasks)
        if np.issubdtype(tasks.dtype, np.number) and np.issubdtype(values.dtype,
                                                                    np.number):
            return np.insert(values, position, tasks.astype(values.dtype), axis=1)
        return np.insert(values.astype(object), position, tasks, axis=1)

    def set_output(self, *, transform=None):
        """Set the container of the output of ``transform``.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            As for any scikit-learn transformer; a DataFrame input already
            gives a pandas DataFrame.

        Returns
        -------
        self : object
        """
        return super().set_output(transform=transform)

    def get_feature_names_out(self, input_features=None):
        """Output column names: the transformed features and the task column.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Unused; the names seen in ``fit`` are used.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        names = list(self.transformer_.get_feature_names_out())
        if self.task_column is None:
            return np.asarray(names, dtype=object)
        task = (self._task_name if self._task_name is not None
                else f"x{self._task_position}")
        names.insert(self._output_position(len(names)), task)
        return np.asarray(names, dtype=object)
