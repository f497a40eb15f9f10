"""nsi: intervention scripts (.nsi) for language models, checked against the model's
signature before any weight is touched, compiled to verified bytecode and run on CPU.

    import nsi
    model = nsi.Model("models/smollm2-135m")
    r = model.run("Samples/logit_lens.nsi", prompt="The capital of France is")
    r.stack("p_paris")                  # numpy, one value per layer
    nsi.plot.series(r, "p_paris")       # needs matplotlib

docs/python.md in the repository has the whole story.
"""
import os as _os

from . import plot
from ._native import lib as _lib
from .core import CancelToken, Model, Plan
from .errors import (ArgumentError, Cancelled, CompileError, Diagnostic, InternalError, LimitError, ModelError,
                     NSIError, ParamError, PlanError, RunError, ServerError)
from .remote import Server
from .results import Results


def _read_version():
    path = _os.path.join(_os.path.dirname(__file__), "VERSION")
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "source"


__version__ = _read_version()


def library_version():
    """The version of the native library (libnsic) in use."""
    return _lib().nsi_version().decode()


def system_info():
    """What this machine gives nsi's kernels (what `nsi doctor` prints)."""
    return _lib().nsi_system_info().decode()


__all__ = ["Model", "Plan", "Results", "CancelToken", "Server", "plot", "NSIError", "ArgumentError", "ModelError",
           "CompileError", "Diagnostic", "PlanError", "ParamError", "RunError", "Cancelled", "LimitError",
           "InternalError", "ServerError", "library_version", "system_info"]
