"""scikit-learn estimators: each states its loss and penalty, nothing more."""

from .baselines import (
    IndependentClassifier,
    IndependentRegressor,
    PooledClassifier,
    PooledRegressor,
)
from .structured import (
    GroupLassoClassifier,
    GroupLassoRegressor,
    TraceNormClassifier,
    TraceNormRegressor,
)

__all__ = [
    "GroupLassoClassifier",
    "GroupLassoRegressor",
    "IndependentClassifier",
    "IndependentRegressor",
    "PooledClassifier",
    "PooledRegressor",
    "TraceNormClassifier",
    "TraceNormRegressor",
]
