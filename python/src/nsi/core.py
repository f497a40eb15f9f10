"""Models, plans and runs: nsi's embedding API (nsi.h) as Python objects."""
import ctypes
import json
import os
import signal
import threading
import _thread

import numpy as np

from . import _native, errors
from .results import Results


def _param_text(name, value):
    """A compile-time param as the language writes it (what `nsi run --param` passes)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (str, int, float, np.integer, np.floating)):
        return str(value) if not isinstance(value, (float, np.floating)) else repr(float(value))
    raise errors.ParamError(f"param {name}: a compile-time param is a str, int, float or bool, not {type(value).__name__}")


def _param_json(value):
    """A run-time param as nsi_run's JSON: numbers, strings, booleans, nested lists for tensors."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor (bf16 too: no numpy)
        return value.detach().cpu().tolist()
    return value


def _is_tensor(value):
    return isinstance(value, (np.ndarray, list, tuple)) or (hasattr(value, "detach") and hasattr(value, "numpy"))


def _call(function, cancel, cause=None):
    """Calls `function()` (a native call that may run long) so that Ctrl-C cancels it.

    On the main thread the call runs on a helper thread while this one waits. While it
    waits, SIGINT (Ctrl-C in a terminal, the interrupt button in Jupyter) is taken by a
    handler of nsi's that only triggers the cancel token: no KeyboardInterrupt is thrown
    into the wait or into the starting of the thread, so there is no moment at which an
    interrupt can be lost or leave the run going. Once the run has stopped the previous
    handler is back and KeyboardInterrupt is raised, its __cause__ being `cause(value)`
    of what the run ended with (nsi.Cancelled when it saw the cancel).

    Only Python's own SIGINT handler is replaced (the one that raises
    KeyboardInterrupt): a process that ignores SIGINT (as a job started in the
    background by a non-interactive shell does) or has its own handler keeps it. An
    exception such a handler (or any other) raises during the wait cancels the run
    too and is raised once the run has stopped. On other threads the call is made
    directly (signals go to the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return function()
    lib = _native.lib()
    outcome = {}
    wake = threading.Lock()  # held until the call returns: the wait sleeps on it
    wake.acquire()

    def target():
        try:
            outcome["value"] = function()
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error
        finally:
            outcome["finished"] = True
            wake.release()

    def wait():
        # Polls as well as sleeps: a signal the kernel handed to another thread sets
        # Python's flag but does not wake this one.
        while "finished" not in outcome:
            wake.acquire(timeout=0.05)

    interrupts = []

    def on_sigint(signum, frame):
        interrupts.append(signum)
        lib.nsi_cancel_trigger(cancel)

    # From the moment signal.signal returns, a SIGINT (even one that arrived before
    # and is handled only now) goes to on_sigint: Python looks the handler up when it
    # runs it.
    previous = signal.signal(signal.SIGINT, on_sigint) if signal.getsignal(signal.SIGINT) is signal.default_int_handler else None
    started = False
    try:
        try:
            _thread.start_new_thread(target, ())
            started = True
            wait()
        except BaseException as error:  # from another handler: stop the run, then raise it
            lib.nsi_cancel_trigger(cancel)
            while started:  # (not started: the thread, if it runs, stops at once)
                try:
                    wait()
                    break
                except BaseException:  # the run stops within an instruction: wait for it
                    continue
            if cause is not None and "value" in outcome and error.__cause__ is None:
                error.__cause__ = cause(outcome["value"])
            raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if interrupts:
        interrupt = KeyboardInterrupt()
        # What the run ended with: nsi.Cancelled, or None for a run that had finished
        # before it saw the cancel (its results are dropped).
        if "value" in outcome:
            interrupt.__cause__ = cause(outcome["value"]) if cause is not None else None
        else:
            interrupt.__cause__ = outcome.get("error")
        raise interrupt
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class Model:
    """A Hugging Face model folder (config.json, *.safetensors, tokenizer.json), loaded
    once: the weights are memory-mapped read-only and shared by every run. Any number
    of threads may compile and run on one model at once."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self._handle = None
        handle = ctypes.c_void_p()
        _native.check(_native.lib().nsi_model_load(self.path.encode(), ctypes.byref(handle)))
        self._handle = handle

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            _native.free("nsi_model_free", handle)

    def __repr__(self):
        return f"nsi.Model({self.path!r})"

    @property
    def name(self):
        return os.path.basename(os.path.normpath(self.path))

    @property
    def signature_hash(self):
        """Plans run only on a model with the same signature hash."""
        return _native.lib().nsi_model_signature_hash(self._handle).decode()

    def decode(self, ids):
        """The text of token ids, as the model's tokenizer decodes them."""
        ids = [int(i) for i in ids]
        array = (ctypes.c_int64 * max(len(ids), 1))(*ids)
        out = ctypes.c_void_p()
        _native.check(_native.lib().nsi_model_decode(self._handle, array, len(ids), ctypes.byref(out)))
        return _native.take_string(out.value)

    def token_strings(self, ids):
        """Each id's own text: the labels of a plot's token axis."""
        return [self.decode([i]) for i in ids]

    def compile(self, source, name=None, **params):
        """Compiles a script against this model: `source` is the script's text, or the
        path of a .nsi file (its `load(...)` paths resolve from its folder). `params`
        fix compile-time params. Raises CompileError with every diagnostic."""
        text, name = _script(source, name)
        bound = {k: _param_text(k, v) for k, v in params.items()}
        data = text.encode()
        plan, diagnostics = ctypes.c_void_p(), ctypes.c_void_p()
        status = _native.lib().nsi_compile(self._handle, data, len(data), name.encode(),
                                           json.dumps(bound).encode() if bound else None,
                                           ctypes.byref(plan), ctypes.byref(diagnostics))
        listed = _native.take_string(diagnostics.value)
        if status != 0:
            message = _native.last_error()
            if status == errors.CompileError.status:
                raise errors.CompileError(message, json.loads(listed) if listed else [], source=text)
            raise errors.from_status(status, message)
        return Plan(self, plan, warnings=json.loads(listed) if listed else [], source=text, name=name)

    def load_plan(self, data):
        """A compiled plan (the bytes of a .nsb file, or its path), verified for this model."""
        if isinstance(data, (str, os.PathLike)):
            with open(data, "rb") as f:
                data = f.read()
        data = bytes(data)
        plan = ctypes.c_void_p()
        _native.check(_native.lib().nsi_plan_from_bytes(self._handle, data, len(data), ctypes.byref(plan)))
        return Plan(self, plan, name="plan")

    def run(self, source_or_plan, *, name=None, cancel=None, **params):
        """Runs a script (text or .nsi path), a Plan, or plan bytes, and returns its Results.

        For a script, str/number/bool params are bound when it compiles, as `nsi run
        --param` binds them, and arrays at run time; for a plan, every param is bound at
        run time. Ctrl-C cancels the run (it stops within an instruction or a tile of a
        product) and raises KeyboardInterrupt. `cancel` is an nsi.CancelToken to stop it
        from another thread."""
        if isinstance(source_or_plan, Plan):
            plan, run_params = source_or_plan, params
        elif isinstance(source_or_plan, (bytes, bytearray, memoryview)):
            plan, run_params = self.load_plan(source_or_plan), params
        else:
            compile_params = {k: v for k, v in params.items() if not _is_tensor(v)}
            run_params = {k: v for k, v in params.items() if _is_tensor(v)}
            plan = self.compile(source_or_plan, name=name, **compile_params)
        return plan.run(cancel=cancel, **run_params)


def _script(source, name):
    """(text, name) of a script given as text or as a path."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source
                                            and source.endswith(".nsi") and os.path.isfile(source)):
        path = os.fspath(source)
        with open(path, encoding="utf-8") as f:
            return f.read(), name or path
    if not isinstance(source, str):
        raise errors.ArgumentError(f"a script is text or a .nsi path, not {type(source).__name__}")
    if "\n" not in source and source.endswith(".nsi") and "{" not in source:
        raise errors.ArgumentError(f"no script file {source!r} (pass a script's text, or the path of a .nsi file)")
    return source, name or "script.nsi"


class CancelToken:
    """Stops runs from another thread: pass it as `cancel=`, call `cancel()`. One token
    may serve several runs; it cannot be reset."""

    def __init__(self):
        self._handle = _native.lib().nsi_cancel_new()

    def cancel(self):
        _native.lib().nsi_cancel_trigger(self._handle)

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            _native.free("nsi_cancel_free", handle)


class Plan:
    """A checked, verified plan for one model: run it any number of times, from any
    number of threads. `bytes` is what `nsi compile` writes to a .nsb file."""

    def __init__(self, model, handle, warnings=(), source=None, name="plan"):
        self.model, self._handle = model, handle
        self.warnings = [errors.Diagnostic(w) for w in warnings]
        self.source, self.name = source, name

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            _native.free("nsi_plan_free", handle)

    @property
    def bytes(self):
        length = ctypes.c_size_t()
        pointer = _native.lib().nsi_plan_bytes(self._handle, ctypes.byref(length))
        return ctypes.string_at(pointer, length.value)

    def save(self, path):
        """Writes the plan's bytes (a .nsb file `nsi run` and `nsi submit` take)."""
        with open(path, "wb") as f:
            f.write(self.bytes)

    @property
    def params(self):
        """Each param: name, type, binding ("compile time" or "run time") and value."""
        return json.loads(_native.lib().nsi_plan_params_json(self._handle).decode())

    def dump(self):
        """The review text `nsi dump` prints: params, batches, hooks in forward order,
        where each pass stops, saves, memory and cost."""
        out = ctypes.c_void_p()
        _native.check(_native.lib().nsi_plan_dump(self.model._handle, self._handle, ctypes.byref(out)))
        return _native.take_string(out.value)

    def __repr__(self):
        return f"<nsi.Plan {self.name} for {self.model.name}: {len(self.bytes)} bytes>"

    def _repr_html_(self):
        from .display import plan_html
        return plan_html(self)

    def run(self, *, cancel=None, **params):
        """Runs the plan with run-time params; returns Results. See Model.run."""
        bound = {k: _param_json(v) for k, v in params.items()}
        text = json.dumps(bound).encode() if bound else None
        token = cancel or CancelToken()
        lib = _native.lib()

        def native():
            # On the helper thread: the last error is per thread, and the results are
            # owned by a Python object as soon as they exist (nothing to leak whatever
            # the main thread is doing).
            handle = ctypes.c_void_p()
            status = lib.nsi_run(self.model._handle, self._handle, text, token._handle, ctypes.byref(handle))
            if status != 0:
                return errors.from_status(status, lib.nsi_last_error().decode("utf-8", "replace"))
            return Results.native(handle, model=self.model)

        outcome = _call(native, token._handle, cause=lambda value: value if isinstance(value, BaseException) else None)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome
