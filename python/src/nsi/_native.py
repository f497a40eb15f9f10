"""The functions of nsi.h (the C ABI of libnsic), typed for ctypes.

The library is the one inside the package (nsi/lib/libnsic.so, put there by `make
wheel`), or the file named by $NSI_LIBRARY. ctypes releases the GIL around every call,
so runs on several Python threads go at once.
"""
import ctypes
import os
import threading

from . import errors

_P, _S, _C = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p
_PP = ctypes.POINTER(ctypes.c_void_p)
_STATUS = ctypes.c_int

_SIGNATURES = {
    "nsi_version": (_C, []),
    "nsi_system_info": (_C, []),
    "nsi_last_error": (_C, []),
    "nsi_model_load": (_STATUS, [_C, _PP]),
    "nsi_model_free": (None, [_P]),
    "nsi_model_signature_hash": (_C, [_P]),
    "nsi_model_decode": (_STATUS, [_P, ctypes.POINTER(ctypes.c_int64), _S, _PP]),
    "nsi_compile": (_STATUS, [_P, _C, _S, _C, _C, _PP, _PP]),
    "nsi_plan_from_bytes": (_STATUS, [_P, _C, _S, _PP]),
    "nsi_plan_bytes": (_P, [_P, ctypes.POINTER(_S)]),
    "nsi_plan_params_json": (_C, [_P]),
    "nsi_plan_dump": (_STATUS, [_P, _P, _PP]),
    "nsi_plan_free": (None, [_P]),
    "nsi_cancel_new": (_P, []),
    "nsi_cancel_trigger": (None, [_P]),
    "nsi_cancel_free": (None, [_P]),
    "nsi_run": (_STATUS, [_P, _P, _C, _P, _PP]),
    "nsi_result_count": (_S, [_P]),
    "nsi_result_name": (_C, [_P, _S]),
    "nsi_result_dtype": (ctypes.c_int, [_P, _S]),
    "nsi_result_rank": (_S, [_P, _S]),
    "nsi_result_shape": (ctypes.POINTER(ctypes.c_int64), [_P, _S]),
    "nsi_result_data": (_P, [_P, _S]),
    "nsi_result_byte_size": (_S, [_P, _S]),
    "nsi_result_json": (_C, [_P]),
    "nsi_result_free": (None, [_P]),
    "nsi_string_free": (None, [_P]),
}

_lock = threading.Lock()
_lib = None


def library_path():
    """Where libnsic.so is loaded from: $NSI_LIBRARY, else the package's own copy."""
    override = os.environ.get("NSI_LIBRARY")
    if override:
        return override
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib", "libnsic.so")


def lib():
    """The loaded library (loaded once, on first use)."""
    global _lib
    with _lock:
        if _lib is None:
            path = library_path()
            if not os.path.exists(path):
                raise ImportError(
                    f"nsi: the native library {path} is missing; install the wheel `make wheel` builds, "
                    "or point NSI_LIBRARY at a libnsic.so")
            handle = ctypes.CDLL(path)
            for name, (result, arguments) in _SIGNATURES.items():
                function = getattr(handle, name)
                function.restype, function.argtypes = result, arguments
            _lib = handle
        return _lib


def last_error():
    return lib().nsi_last_error().decode("utf-8", "replace")


def check(status, diagnostics=None):
    """Raises the typed error of a failed call (reading the calling thread's last error)."""
    if status != 0:
        raise errors.from_status(status, last_error(), diagnostics)


def free(function, handle):
    """Calls a free function from a finalizer; at interpreter exit, when the library may
    already be gone, the process's end frees the memory instead."""
    try:
        getattr(lib(), function)(handle)
    except Exception:  # finalizers must not raise
        pass


def take_string(pointer):
    """A string the caller owns (char **out): decoded, then freed."""
    if not pointer:
        return None
    try:
        return ctypes.string_at(pointer).decode("utf-8", "replace")
    finally:
        lib().nsi_string_free(pointer)
