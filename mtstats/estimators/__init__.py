"""scikit-learn estimators: each states its loss and penalty, nothing more."""

from .baselines import (
    IndependentClassifier,
    IndependentRegressor,
    PooledClassifier,
    PooledRegressor,
)
from .clustered import ClusteredClassifier, ClusteredRegressor
from .shared_private import SharedPrivateClassifier, SharedPrivateRegressor
from .structured import (
    GroupLassoClassifier,
    GroupLassoRegressor,
    TraceNormClassifier,
    TraceNormRegressor,
)

__all__ = [
    "ClusteredClassifier",
    "ClusteredRegressor",
    "GroupLassoClassifier",
    "GroupLassoRegressor",
    "IndependentClassifier",
    "IndependentRegressor",
    "PooledClassifier",
    "PooledRegressor",
    "SharedPrivateClassifier",
    "SharedPrivateRegressor",
    "TraceNormClassifier",
    "TraceNormRegressor",
]
