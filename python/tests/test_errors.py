"""Errors arrive as typed exceptions; diagnostics render exactly as `nsi check` prints
them, and as HTML with the ranges underlined."""
import os

import numpy as np
import pytest

import nsi
from conftest import MODEL, SAMPLES, cli

BAD = """param prompt: str = "The capital of France is"
trace prompt {
    let h = model.layers[3].output
    save x = h @ model.layers[4].output
    save y = model.layers[99].output
}
"""


def test_compile_error_renders_like_nsi_check(model, tmp_path):
    path = tmp_path / "bad.nsi"
    path.write_text(BAD)
    checked = cli("check", "--model", MODEL, str(path), check=False, env={**os.environ, "NO_COLOR": "1"})
    assert checked.returncode == 1
    with pytest.raises(nsi.CompileError) as caught:
        model.compile(str(path))
    error = caught.value
    assert str(error) == checked.stderr
    assert len(error.errors) == 2
    first, second = error.diagnostics
    assert (first.line, first.severity) == (4, "error") and first.code.startswith("E")
    assert (second.line, second.column, second.end_column) == (5, 27, 29)
    assert "30 layers" in str(error)


def test_compile_error_html_underlines_the_range(model):
    with pytest.raises(nsi.CompileError) as caught:
        model.compile(BAD)
    page = caught.value._repr_html_()
    assert "<u class='error'>99</u>" in page
    assert "layer index 99 is out of range" in page
    assert "error[E0402]" in page


def test_warnings_come_with_the_plan(model):
    plan = model.compile('trace "Hi" {\n    let unused = model.layers[0].output\n    save y = model.logits\n}\n')
    assert all(w.severity == "warning" for w in plan.warnings)


def test_typed_errors(model, tmp_path):
    with pytest.raises(nsi.ModelError, match="does not exist"):
        nsi.Model(str(tmp_path / "no-such-model"))
    plan = model.compile(os.path.join(SAMPLES, "patching.nsi"))
    with pytest.raises(nsi.ParamError, match="sacle"):
        plan.run(sacle=1)
    with pytest.raises(nsi.ParamError):
        plan.run(pos=3)  # fixed when the plan compiled
    damaged = bytearray(plan.bytes)
    damaged[len(damaged) // 2] ^= 0xFF
    with pytest.raises(nsi.PlanError):
        model.load_plan(bytes(damaged))
    with pytest.raises(nsi.PlanError):
        model.load_plan(b"NSI")
    with pytest.raises(nsi.RunError):
        plan.run(clean="")
    with pytest.raises(nsi.LimitError, match="positions"):
        model.run(os.path.join(SAMPLES, "logit_lens.nsi"), prompt=" Paris" * 9000)
    assert issubclass(nsi.LimitError, nsi.NSIError)
    with pytest.raises(nsi.ArgumentError, match="no script file"):
        model.run("no-such-script.nsi")


def test_cancel_token_from_another_thread(model):
    token = nsi.CancelToken()
    token.cancel()
    with pytest.raises(nsi.Cancelled):
        model.compile(os.path.join(SAMPLES, "steering.nsi")).run(cancel=token)


def test_tensor_params_bind_at_run_time(model):
    source = """param v: f32[576]
param prompt: str = "The capital of France is"
trace prompt {
    model.layers[5].output[:, -1] += v
    save h = model.layers[5].output[0, -1]
}
"""
    plan = model.compile(source)
    base = np.zeros(576, dtype=np.float32)
    a = plan.run(v=base)["h"]
    b = plan.run(v=base + 1.0)["h"]
    np.testing.assert_allclose(b - a, 1.0, atol=1e-4)
    with pytest.raises(nsi.ParamError):
        plan.run(v=np.zeros(3, dtype=np.float32))


def test_numpy_scalars_fix_compile_time_params(model):
    source = """param layer: int
param last: bool
trace "The capital of France is" {
    if last {
        save h = model.layers[layer].output[0, -1]
    } else {
        save h = model.layers[layer].output[0, 0]
    }
}
"""
    a = model.compile(source, layer=np.int64(3), last=np.bool_(True)).run()["h"]
    b = model.compile(source, layer=3, last=True).run()["h"]
    c = model.compile(source, layer=3, last=np.bool_(False)).run()["h"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(nsi.ParamError, match="layer"):
        model.compile(source, layer=[3], last=True)
