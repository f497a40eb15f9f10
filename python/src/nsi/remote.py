"""A client of `nsi serve`: submit a script or plan, wait for it, read its results
(the part NNsight's `remote=True` plays). Standard library only."""
import base64
import json
import os
import time
import urllib.error
import urllib.request

from . import errors
from .results import Results

_FINAL = {"completed", "failed", "cancelled"}


class Server:
    """An `nsi serve` at `url`, used with an API key (default: $NSI_API_KEY).

        server = nsi.Server("http://127.0.0.1:8080", key)
        results = server.run("Samples/logit_lens.nsi", prompt="The capital of France is")
    """

    def __init__(self, url, key=None, timeout=30.0):
        self.url = url.rstrip("/")
        self.key = key if key is not None else os.environ.get("NSI_API_KEY")
        self.timeout = timeout

    def __repr__(self):
        return f"nsi.Server({self.url!r})"

    def _request(self, method, path, body=None):
        headers = {"Accept": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                problem = json.loads(raw)["error"]
                code, message = problem.get("code"), problem.get("message", "")
            except (ValueError, KeyError, TypeError):
                code, message = None, raw.decode("utf-8", "replace")[:500]
            if error.code == 422 and code == "rejected" and "error[E" in message:
                raise errors.CompileError(message) from None
            raise errors.ServerError(f"{method} {path}: {error.code} {code or ''}: {message}".replace("  ", " "),
                                     error.code, code) from None
        except urllib.error.URLError as error:
            raise errors.ServerError(f"{method} {path}: cannot reach {self.url}: {error.reason}") from None

    def health(self):
        return json.loads(self._request("GET", "/v1/health"))

    def models(self):
        """The hosted models' names."""
        answer = json.loads(self._request("GET", "/v1/models"))
        listed = answer.get("models", answer) if isinstance(answer, dict) else answer
        return [m["name"] if isinstance(m, dict) else m for m in listed]

    def submit(self, source_or_plan, *, model=None, name=None, **params):
        """Queues a script (text or .nsi path) or a plan (nsi.Plan or .nsb bytes); returns
        the job's id. Params travel as text, as `nsi submit --param` sends them."""
        from .core import Plan, _param_text, _script

        body = {"params": {k: _param_text(k, v) for k, v in params.items()}}
        if model:
            body["model"] = model
        if isinstance(source_or_plan, Plan):
            body["plan"], body["name"] = base64.b64encode(source_or_plan.bytes).decode(), name or "plan.nsb"
        elif isinstance(source_or_plan, (bytes, bytearray, memoryview)):
            body["plan"], body["name"] = base64.b64encode(bytes(source_or_plan)).decode(), name or "plan.nsb"
        else:
            text, script_name = _script(source_or_plan, name)
            body["script"], body["name"] = text, script_name
        return json.loads(self._request("POST", "/v1/jobs", body))["id"]

    def job(self, job_id):
        return json.loads(self._request("GET", f"/v1/jobs/{job_id}"))

    def cancel(self, job_id):
        self._request("POST", f"/v1/jobs/{job_id}/cancel")

    def wait(self, job_id, poll=0.1, timeout=None):
        """Waits for a job to end; Ctrl-C cancels it on the server and re-raises."""
        started = time.monotonic()
        try:
            while True:
                job = self.job(job_id)
                if job.get("state") in _FINAL:
                    return job
                if timeout is not None and time.monotonic() - started > timeout:
                    raise errors.ServerError(f"job {job_id} is still {job.get('state')} after {timeout} s")
                time.sleep(poll)
        except KeyboardInterrupt:
            self.cancel(job_id)
            raise

    def results(self, job_id, model=None):
        """A completed job's Results (its safetensors file and JSON sidecar)."""
        data = self._request("GET", f"/v1/jobs/{job_id}/results")
        facts = json.loads(self._request("GET", f"/v1/jobs/{job_id}/results.json"))
        return Results.from_safetensors(data, facts, model=model)

    def run(self, source_or_plan, *, model=None, name=None, tokenizer=None, timeout=None, **params):
        """Submits, waits and returns the job's Results, or raises the typed error of a
        failed job (LimitError, RunError, ...). `tokenizer` (a local nsi.Model) labels
        the results' tokens."""
        job_id = self.submit(source_or_plan, model=model, name=name, **params)
        job = self.wait(job_id, timeout=timeout)
        if job["state"] == "cancelled":
            raise errors.Cancelled(f"job {job_id} was cancelled")
        if job["state"] == "failed":
            raise errors.from_job(job.get("error_kind"), job.get("error") or f"job {job_id} failed")
        return self.results(job_id, model=tokenizer)
