"""Every sample through the package gives what `nsi run` gives, bit for bit: the same
names in the same order, dtypes, shapes and bytes, the same token ids and generations;
and a script compiles to the same plan bytes as `nsi compile`."""
import glob
import json
import os

import numpy as np
import pytest

import nsi
from conftest import MODEL, SAMPLES, cli

SCRIPTS = sorted(glob.glob(os.path.join(SAMPLES, "*.nsi")))


def test_every_sample_is_listed():
    assert len(SCRIPTS) >= 17, SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS, ids=[os.path.basename(s) for s in SCRIPTS])
def test_sample_matches_nsi_run(model, script, tmp_path):
    out = tmp_path / "cli.safetensors"
    cli("run", "--model", MODEL, "--quiet", "--out", str(out), script)
    with open(out, "rb") as f:
        data = f.read()
    with open(tmp_path / "cli.json") as f:
        expected_facts = json.load(f)
    expected = nsi.Results.from_safetensors(data, expected_facts)

    got = model.run(script)
    assert list(got) == list(expected), "the saves differ in name or order"
    for name in expected:
        a, b = got[name], expected[name]
        assert a.dtype == b.dtype and a.shape == b.shape, f"{name}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        assert a.tobytes() == b.tobytes(), f"{name}: max difference {np.abs(a.astype(np.float64) - b.astype(np.float64)).max()}"
    assert got.token_ids == expected.token_ids
    assert got.generated_ids == expected.generated_ids
    assert got.generated_text == expected.generated_text
    assert got.prompts == expected.prompts


@pytest.mark.parametrize("script", SCRIPTS[:6], ids=[os.path.basename(s) for s in SCRIPTS[:6]])
def test_plan_bytes_match_nsi_compile(model, script, tmp_path):
    out = tmp_path / "plan.nsb"
    cli("compile", "--model", MODEL, "-o", str(out), script)
    plan = model.compile(script)
    assert plan.bytes == out.read_bytes()
    # Bytes read back are the same plan, and run.
    again = model.load_plan(str(out))
    assert again.bytes == plan.bytes
    assert again.params == plan.params


def test_results_view_native_memory_without_copies(model):
    r = model.run(os.path.join(SAMPLES, "attention_pattern.nsi"))
    pattern = r["pattern"]
    assert not pattern.flags.writeable and not pattern.flags.owndata
    assert pattern.base is not None
    np.testing.assert_allclose(pattern.sum(axis=-1), 1.0, atol=1e-5)
    keep = r["q"]
    del r  # the arrays keep the native result alive
    assert np.isfinite(keep).all() and keep.shape[1] == 64


def test_indexed_saves_stack(model):
    r = model.run(os.path.join(SAMPLES, "logit_lens.nsi"), prompt="The capital of France is")
    lens = r.stack("p_paris")
    assert lens.shape == (30,)
    assert [float(r[f"p_paris.{i}"]) for i in range(30)] == lens.tolist()
    assert r.indexed()["p_paris"] == list(range(30))
    assert r["top.indices"].dtype == np.int64 and r["top.values"].shape == (5,)
    assert r.tokens == ["The", " capital", " of", " France", " is"]
    with pytest.raises(KeyError, match="no indexed save named 'nope'"):
        r.stack("nope")
    with pytest.raises(KeyError, match="was not saved"):
        r["nope"]


def test_compile_time_and_run_time_params(model):
    plan = model.compile(os.path.join(SAMPLES, "patching.nsi"), pos=9)
    bindings = {p["name"]: p["binding"] for p in plan.params}
    assert bindings == {"clean": "run time", "corrupt": "run time", "pos": "compile time"}
    a = plan.run()
    b = plan.run(corrupt="When John and Mary went to the store, Mary gave a drink to")
    # Patching a prompt with itself changes nothing: every layer's effect is the same.
    assert np.ptp(b.stack("logit_diff")) < 1e-4 < np.ptp(a.stack("logit_diff"))

