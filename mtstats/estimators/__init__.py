"""scikit-learn estimators: each states its loss and penalty, nothing more.

Every estimator has a cross-validated twin (``*CV``, in
:mod:`mtstats.estimators.cv`) and a regularisation path
(:func:`regularization_path`).
"""

from ._path import RegularizationPath, regularization_path
from .baselines import (
    IndependentClassifier,
    IndependentRegressor,
    PooledClassifier,
    PooledRegressor,
)
from .clustered import ClusteredClassifier, ClusteredRegressor
from .cv import (
    ClusteredClassifierCV,
    ClusteredRegressorCV,
    GroupLassoClassifierCV,
    GroupLassoRegressorCV,
    IndependentClassifierCV,
    IndependentRegressorCV,
    PooledClassifierCV,
    PooledRegressorCV,
    SharedPrivateClassifierCV,
    SharedPrivateRegressorCV,
    TraceNormClassifierCV,
    TraceNormRegressorCV,
)
from .shared_private import SharedPrivateClassifier, SharedPrivateRegressor
from .structured import (
    GroupLassoClassifier,
    GroupLassoRegressor,
    TraceNormClassifier,
    TraceNormRegressor,
)

__all__ = [
    "ClusteredClassifier",
    "ClusteredClassifierCV",
    "ClusteredRegressor",
    "ClusteredRegressorCV",
    "GroupLassoClassifier",
    "GroupLassoClassifierCV",
    "GroupLassoRegressor",
    "GroupLassoRegressorCV",
    "IndependentClassifier",
    "IndependentClassifierCV",
    "IndependentRegressor",
    "IndependentRegressorCV",
    "PooledClassifier",
    "PooledClassifierCV",
    "PooledRegressor",
    "PooledRegressorCV",
    "SharedPrivateClassifier",
    "SharedPrivateClassifierCV",
    "SharedPrivateRegressor",
    "SharedPrivateRegressorCV",
    "TraceNormClassifier",
    "TraceNormClassifierCV",
    "TraceNormRegressor",
    "TraceNormRegressorCV",
    "RegularizationPath",
    "regularization_path",
]
