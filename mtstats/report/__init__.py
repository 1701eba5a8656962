"""Per-task reports: does sharing help, which coefficients matter, and can the
predictions be trusted.

* :func:`compare_to_baselines` -- per-task comparison with the independent and
  pooled baselines (corrected resampled t-test, multiplicity control).
* :func:`coefficient_tests` -- coefficient inference valid after selection
  (multi sample-splitting, subspace and cluster splitting).
* :func:`calibration_report` -- reliability, ECE, Brier decomposition,
  calibration slope for classifiers; conformal interval coverage and PIT for
  regressors.
* :func:`task_report` -- all of it, in one object and one HTML file.
"""

from .calibration import CalibrationResult, calibration_report
from .coefficients import CoefficientResult, coefficient_tests
from .comparison import ComparisonResult, compare_to_baselines
from .task_report import TaskReport, task_report

__all__ = [
    "CalibrationResult",
    "CoefficientResult",
    "ComparisonResult",
    "TaskReport",
    "calibration_report",
    "coefficient_tests",
    "compare_to_baselines",
    "task_report",
]
