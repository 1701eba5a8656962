"""Array-namespace selection: NumPy on the CPU, CuPy on a CUDA device.

Every numerical kernel in mtstats takes its namespace from its inputs through
:func:`array_api_compat.array_namespace` and calls only functions of the array
API standard, so the same code runs on NumPy, CuPy and ``array_api_strict``.
This module is the one place that decides *which* namespace an estimator
solves in, and that moves arrays between host and device.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, is_numpy_array, is_numpy_namespace
from array_api_compat import numpy as np_compat

__all__ = ["array_namespace", "namespace_for_device", "to_namespace", "to_numpy"]

_CUPY_HELP = (
    "device='cuda' needs CuPy and a CUDA device. Install the GPU extra matching "
    "your CUDA toolkit, e.g. `pip install \"mtstats[gpu]\"` (CUDA 13) or "
    "`pip install cupy-cuda12x` (CUDA 12), on a machine with an NVIDIA GPU."
)


def namespace_for_device(device):
    """Return the array namespace that solves on ``device``.

    Parameters
    ----------
    device : {"cpu", "cuda"}
        ``"cpu"`` solves with NumPy; ``"cuda"`` with CuPy on the current CUDA
        device.

    Returns
    -------
    xp : module
        An array-API compatible namespace (``array_api_compat.numpy`` or
        ``array_api_compat.cupy``).

    Raises
    ------
    ImportError
        If ``device="cuda"`` and CuPy is not installed.
    RuntimeError
        If CuPy is installed but no CUDA device is usable.
    """
    if device == "cpu":
        return np_compat
    if device != "cuda":
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}.")
    try:
        import cupy
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise ImportError(_CUPY_HELP) from exc
    try:  # pragma: no cover - needs a GPU
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # pragma: no cover - CUDA runtime errors vary
        raise RuntimeError(f"{_CUPY_HELP} CuPy reported: {exc}") from exc
    if n_devices < 1:  # pragma: no cover
        raise RuntimeError(f"{_CUPY_HELP} No CUDA device was found.")
    from array_api_compat import cupy as cp_compat  # pragma: no cover

    return cp_compat  # pragma: no cover


def to_namespace(xp, array, dtype=None):
    """Copy a NumPy array into namespace ``xp`` (a no-op for NumPy)."""
    if array is None:
        return None
    if is_numpy_namespace(xp):
        return np.asarray(array, dtype=dtype)
    if dtype is not None:
        dtype = getattr(xp, np.dtype(dtype).name)
    return xp.asarray(array, dtype=dtype)


def to_numpy(array):
    """Return ``array`` as a NumPy array, copying from the device if needed."""
    if array is None or is_numpy_array(array):
        return array
    if hasattr(array, "get"):  # CuPy
        return array.get()
    return np.asarray(array)
