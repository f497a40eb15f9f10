"""nsi.Server against a real `nsi serve` on loopback: the same Results object as a local
run (bit-identical for a job that ran alone), compile errors, failed jobs and bad keys as
typed exceptions."""
import os
import re
import subprocess
import time

import pytest

import nsi
from conftest import CLI, MODEL, SAMPLES, cli


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = str(tmp_path_factory.mktemp("server") / "queue.sqlite")
    made = cli("keys", "create", "--name", "python-tests", "--store", store)
    key = re.search(r"nsi_[A-Za-z0-9_-]+", made.stdout + made.stderr).group(0)
    process = subprocess.Popen([CLI, "serve", "--model", f"smollm2={MODEL}", "--store", store, "--port", "0",
                                "--max-tokens", "16"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = None
    started = time.monotonic()
    lines = []
    while url is None and time.monotonic() - started < 120:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"listening on (http://[0-9.:]+)", line)
        url = found.group(1) if found else None
    if url is None:
        process.kill()
        raise AssertionError("nsi serve did not start:\n" + "".join(lines))
    yield nsi.Server(url, key)
    process.terminate()
    process.wait(30)


def test_remote_run_gives_the_local_results(server, model):
    script = os.path.join(SAMPLES, "logit_lens.nsi")
    remote = server.run(script, prompt="The capital of France is", tokenizer=model)
    local = model.run(script, prompt="The capital of France is")
    assert isinstance(remote, nsi.Results)
    assert list(remote) == list(local)
    for name in local:
        assert remote[name].tobytes() == local[name].tobytes(), name
    assert remote.stack("p_paris").shape == (30,)
    assert remote.token_ids == local.token_ids
    assert remote.tokens == local.tokens
    assert remote.facts["model"] == "smollm2"


def test_remote_plan_with_run_time_params(server, model):
    plan = model.compile(os.path.join(SAMPLES, "patching.nsi"))
    remote = server.run(plan, corrupt="When John and Mary went to the store, Mary gave a drink to")
    local = plan.run(corrupt="When John and Mary went to the store, Mary gave a drink to")
    assert remote.stack("logit_diff").tobytes() == local.stack("logit_diff").tobytes()


def test_remote_errors_are_typed(server):
    assert "smollm2" in server.models()
    assert server.health()["status"] == "ok"
    with pytest.raises(nsi.CompileError, match="layer index 99 is out of range"):
        server.run('trace "Hi" {\n    save x = model.layers[99].output\n}\n')
    with pytest.raises(nsi.ServerError) as refused:
        server.run('generate "Hi" (max_tokens = 100) {\n    save ids = result.ids\n}\n')
    assert refused.value.http_status == 422 and "max_tokens" in str(refused.value)
    with pytest.raises(nsi.RunError):
        server.run(os.path.join(SAMPLES, "logit_lens.nsi"), prompt="")
    stranger = nsi.Server(server.url, "nsi_not_a_key")
    with pytest.raises(nsi.ServerError) as unauthorized:
        stranger.models()
    assert unauthorized.value.http_status == 401 and "nsi_not_a_key" not in str(unauthorized.value)
    with pytest.raises(nsi.ServerError, match="cannot reach"):
        nsi.Server("http://127.0.0.1:9", "k", timeout=2).health()
