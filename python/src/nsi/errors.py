"""The errors of nsi, one class per status of the C ABI (and per error kind of a server job).

    NSIError
    ├── ArgumentError    a missing or invalid argument
    ├── ModelError       the model folder could not be loaded
    ├── CompileError     the script has errors: .diagnostics, str() as `nsi check` prints it
    ├── PlanError        plan bytes damaged, of another format, or for another model
    ├── ParamError       a param unknown, fixed at compile time, or of the wrong type
    ├── RunError         the run stopped on a value of its own (an index out of range)
    ├── Cancelled        the run was cancelled (Ctrl-C, or Run.cancel)
    ├── LimitError       a limit was passed: deadline, memory, tokens, positions (.limit names it)
    ├── ServerError      a server refused a request or lost a job (.status, .code)
    └── InternalError    a bug in nsi
"""
import html
import json


class NSIError(Exception):
    """Any error of nsi. `message` is the text; `status` the C ABI's status code."""

    status = None

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class ArgumentError(NSIError):
    status = 1


class ModelError(NSIError):
    status = 2


class Diagnostic:
    """One problem the checker found: a stable code (`E0306`), its severity, where it
    starts and ends (1-based lines and columns), the message, notes and help."""

    def __init__(self, item):
        self.code = item.get("code")
        self.severity = item.get("severity")
        self.message = item.get("message")
        self.file = item.get("file")
        span = item.get("range") or {}
        start, end = span.get("start") or {}, span.get("end") or {}
        self.line, self.column = start.get("line"), start.get("column")
        self.end_line, self.end_column = end.get("line"), end.get("column")
        self.notes = list(item.get("notes") or [])
        self.help = item.get("help")
        self.labels = item.get("labels") or []

    def __repr__(self):
        return f"<Diagnostic {self.severity}[{self.code}] {self.line}:{self.column} {self.message!r}>"


class CompileError(NSIError):
    """The script did not compile. `diagnostics` lists every problem (warnings too);
    str() is exactly what `nsi check` prints; in a notebook it shows the source with the
    ranges underlined."""

    status = 3

    def __init__(self, message, diagnostics=None, source=None):
        super().__init__(message)
        self.diagnostics = [Diagnostic(d) for d in (diagnostics or [])]
        self.source = source

    @property
    def errors(self):
        return [d for d in self.diagnostics if d.severity == "error"]

    def _repr_html_(self):
        from .display import diagnostics_html
        return diagnostics_html(self.diagnostics, self.source, self.message)


class PlanError(NSIError):
    status = 4


class ParamError(NSIError):
    status = 5


class RunError(NSIError):
    status = 6


class Cancelled(NSIError):
    status = 7


class LimitError(NSIError):
    """A run passed a limit; `limit` names it (`deadline`, `memory`, ...) when known."""

    status = 8

    def __init__(self, message, limit=None):
        super().__init__(message)
        self.limit = limit


class InternalError(NSIError):
    status = 9


class ServerError(NSIError):
    """A server answered with an error (`status` is the HTTP status, `code` its error code)."""

    def __init__(self, message, http_status=None, code=None):
        super().__init__(message)
        self.http_status, self.code = http_status, code


_BY_STATUS = {c.status: c for c in (ArgumentError, ModelError, CompileError, PlanError, ParamError,
                                     RunError, Cancelled, LimitError, InternalError)}


def from_status(status, message, diagnostics=None):
    """The exception for a C ABI status and message."""
    cls = _BY_STATUS.get(status, InternalError)
    if cls is CompileError:
        return CompileError(message, json.loads(diagnostics) if diagnostics else [])
    if cls is LimitError:
        return LimitError(message)
    return cls(message)


def from_job(kind, message):
    """The exception for a failed server job, by its `error_kind`."""
    kind = kind or ""
    if kind.startswith("limit"):
        return LimitError(message, kind.partition(".")[2] or None)
    return {"plan": PlanError, "param": ParamError, "input": RunError, "cancelled": Cancelled,
            "internal": InternalError}.get(kind, ServerError)(message)


def escape(text):
    return html.escape(text, quote=True)
