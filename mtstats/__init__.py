"""mtstats: statistical multitask learning.

Fit many related prediction tasks jointly (trace norm, group lasso, pooled and
independent baselines) with scikit-learn estimators that accept per-task
designs, on the CPU or a CUDA GPU; every estimator has a cross-validated
``*CV`` twin and a warm-started regularisation path.
"""

from . import datasets, metrics, model_selection, preprocessing
from .estimators import (
    ClusteredClassifier,
    ClusteredClassifierCV,
    ClusteredRegressor,
    ClusteredRegressorCV,
    GroupLassoClassifier,
    GroupLassoClassifierCV,
    GroupLassoRegressor,
    GroupLassoRegressorCV,
    IndependentClassifier,
    IndependentClassifierCV,
    IndependentRegressor,
    IndependentRegressorCV,
    PooledClassifier,
    PooledClassifierCV,
    PooledRegressor,
    PooledRegressorCV,
    SharedPrivateClassifier,
    SharedPrivateClassifierCV,
    SharedPrivateRegressor,
    SharedPrivateRegressorCV,
    TraceNormClassifier,
    TraceNormClassifierCV,
    TraceNormRegressor,
    TraceNormRegressorCV,
    regularization_path,
)

__version__ = "0.1.0.dev0"

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
    "__version__",
    "datasets",
    "metrics",
    "model_selection",
    "preprocessing",
    "regularization_path",
]
