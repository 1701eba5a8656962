r"""Base of the decomposition estimators: ``W`` as a sum of differently penalised parts.

A formulation states three things (:mod:`mtstats.estimators.decomposed`):
the norm of every part (``_norms``, shared part first), the fitted
attribute that holds every part (``_part_names``), and its docstring. The
base class turns the penalty into
:class:`~mtstats.penalties.components.Decomposition` with shares
``(shared_ratio, 1 - shared_ratio)``, wraps the prepared design in a
:class:`~mtstats._components.ComponentDesign`, and maps the stacked solution
back: ``coef_`` is the sum of the parts, each part is its own attribute.
Solver, datafits, duality gap, ``alpha_max``, paths, ``*CV`` twins and warm
starts are those of every other estimator.
"""

from __future__ import annotations

from dataclasses import fields, replace
from numbers import Real

import numpy as np

from .._backend import to_namespace, to_numpy
from .._components import ComponentDesign
from .._sklearn_compat import Interval
from ..penalties.components import Decomposition
from ._base import COMMON_CONSTRAINTS, MultitaskLinearModel
from ._problem import FitProblem

__all__ = ["DecomposedModel", "DecomposedProblem", "SHARED_RATIO_DOC"]

SHARED_RATIO_DOC = r"""alpha : float, default=0.01
        Overall strength (> 0): the penalty is linear in it; see
        :meth:`alpha_max`.
    shared_ratio : float in (0, 1), default={default}
        ``s``, the share of ``alpha`` on the shared part (the first term
        above); the other part gets ``1 - s``. The same name and meaning
        as in :class:`SharedPrivateRegressor`: larger values make sharing
        dearer."""


class DecomposedProblem(FitProblem):
    """A :class:`~mtstats.estimators._problem.FitProblem` on stacked parts.

    Its design is a :class:`~mtstats._components.ComponentDesign`;
    :meth:`solution` sums the parts into ``coef`` and returns the result with
    the parts, in the user's units, stacked in ``result.W`` (K d x T).
    """

    @classmethod
    def from_problem(cls, problem, n_parts):
        """Wrap the design of a prepared ``problem`` for ``n_parts`` parts."""
        values = {f.name: getattr(problem, f.name) for f in fields(problem)}
        values["design"] = ComponentDesign(problem.design, n_parts)
        return cls(**values)

    def solution(self, result):
        """``(coef, intercept, result)`` with the unscaled parts in ``result.W``."""
        design = self.design
        coef, intercept, unscaled = FitProblem.solution(
            self, replace(result, W=design.collapse(result.W)))
        parts = to_numpy(result.W) * self.scale.coef
        return coef, intercept, replace(unscaled, W=parts.astype(coef.dtype))

    def stacked_point(self, parts, intercept):
        """Solver variables ``(W, b)`` of fitted ``parts`` (each n_tasks x d)."""
        total = sum(parts)
        _, b = FitProblem.solver_point(self, total, intercept)
        W = np.concatenate([part.T for part in parts], axis=0) / self.scale.coef
        return to_namespace(self.design.xp, W, self.data.X.dtype), b


class DecomposedModel(MultitaskLinearModel):
    """Estimators with ``coef_`` the sum of parts (see the module docstring)."""

    _norms: tuple = ()
    _part_names: tuple = ()
    _parameter_constraints: dict = {
        **COMMON_CONSTRAINTS,
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "shared_ratio": [Interval(Real, 0, 1, closed="neither")],
    }

    def _make_penalty(self):
        ratio = self.shared_ratio
        if not 0 < ratio < 1:
            raise ValueError("shared_ratio must lie strictly between 0 and 1; "
                             f"got {ratio!r}.")
        return Decomposition(self.alpha, self._part_norms(), (ratio, 1 - ratio))

    def _part_norms(self):
        """The norm of every part, shared part first (hook)."""
        return self._norms

    def _prepare(self, X, y, *args, **kwargs):
        problem = super()._prepare(X, y, *args, **kwargs)
        return DecomposedProblem.from_problem(problem, len(self._part_names))

    def _warm_start_point(self, problem):
        """The previous parts, stacked, as the solver's starting point."""
        if not (self.warm_start and hasattr(self, "coef_")):
            return None, None
        if (list(self.tasks_) != list(problem.tasks)
                or self.coef_.shape[1] != problem.design.base.n_features):
            return None, None
        parts = [getattr(self, name) for name in self._part_names]
        return problem.stacked_point(parts, self.intercept_)

    def _store_structure(self, result, penalty):
        W = np.asarray(result.W)
        d = W.shape[0] // len(self._part_names)
        for k, name in enumerate(self._part_names):
            setattr(self, name, np.ascontiguousarray(W[k * d:(k + 1) * d].T))
        self._store_outliers()

    def _store_outliers(self):
        """Set ``outlier_tasks_`` where a part is named ``outlier_coef_``."""
        if "outlier_coef_" in self._part_names:
            outlying = np.any(self.outlier_coef_ != 0, axis=1)
            self.outlier_tasks_ = np.asarray(self.tasks_)[outlying]
