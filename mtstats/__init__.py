"""mtstats: statistical multitask learning.

Fit many related prediction tasks jointly (trace norm, group lasso, pooled and
independent baselines) with scikit-learn estimators that accept per-task
designs, on the CPU or a CUDA GPU.
"""

from . import datasets, metrics, model_selection
from .estimators import (
    ClusteredClassifier,
    ClusteredRegressor,
    GroupLassoClassifier,
    GroupLassoRegressor,
    IndependentClassifier,
    IndependentRegressor,
    PooledClassifier,
    PooledRegressor,
    SharedPrivateClassifier,
    SharedPrivateRegressor,
    TraceNormClassifier,
    TraceNormRegressor,
)

__version__ = "0.1.0.dev0"

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
    "__version__",
    "datasets",
    "metrics",
    "model_selection",
]
