"""Every private scikit-learn import of mtstats, in one place.

scikit-learn's parameter-validation helpers are private API; keeping them here
means a change in scikit-learn touches one file.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = ["Interval", "StrOptions", "_fit_context"]
