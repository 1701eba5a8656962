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
from .cv_decomposed import (
    DirtyClassifierCV,
    DirtyRegressorCV,
    RobustGroupLassoClassifierCV,
    RobustGroupLassoRegressorCV,
    RobustTraceNormClassifierCV,
    RobustTraceNormRegressorCV,
    SparseLowRankClassifierCV,
    SparseLowRankRegressorCV,
)
from .cv_graph import GraphClassifierCV, GraphRegressorCV
from .decomposed import (
    DirtyClassifier,
    DirtyRegressor,
    SparseLowRankClassifier,
    SparseLowRankRegressor,
)
from .graph import GraphClassifier, GraphRegressor
from .robust import (
    RobustGroupLassoClassifier,
    RobustGroupLassoRegressor,
    RobustTraceNormClassifier,
    RobustTraceNormRegressor,
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
    "DirtyClassifier",
    "DirtyClassifierCV",
    "DirtyRegressor",
    "DirtyRegressorCV",
    "GraphClassifier",
    "GraphClassifierCV",
    "GraphRegressor",
    "GraphRegressorCV",
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
    "RobustGroupLassoClassifier",
    "RobustGroupLassoClassifierCV",
    "RobustGroupLassoRegressor",
    "RobustGroupLassoRegressorCV",
    "RobustTraceNormClassifier",
    "RobustTraceNormClassifierCV",
    "RobustTraceNormRegressor",
    "RobustTraceNormRegressorCV",
    "SharedPrivateClassifier",
    "SharedPrivateClassifierCV",
    "SharedPrivateRegressor",
    "SharedPrivateRegressorCV",
    "SparseLowRankClassifier",
    "SparseLowRankClassifierCV",
    "SparseLowRankRegressor",
    "SparseLowRankRegressorCV",
    "TraceNormClassifier",
    "TraceNormClassifierCV",
    "TraceNormRegressor",
    "TraceNormRegressorCV",
    "RegularizationPath",
    "regularization_path",
]
