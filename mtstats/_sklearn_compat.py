"""Every private scikit-learn import of mtstats, in one place.

scikit-learn's parameter-validation helpers are private API; keeping them here
means a change in scikit-learn touches one file.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metadata_routing import _raise_for_params, _routing_enabled
from sklearn.utils.validation import _check_method_params, _check_sample_weight

__all__ = ["Interval", "StrOptions", "_check_method_params", "_check_sample_weight",
           "_fit_context", "_own_metadata_request", "_raise_for_params",
           "_routing_enabled"]


def _own_metadata_request(estimator):
    """The metadata an estimator consumes itself (its ``set_*_request``
    values), without the routing to its children: a private method of
    scikit-learn's ``BaseEstimator``."""
    return estimator._get_metadata_request()
