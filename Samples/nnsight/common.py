"""Shared pieces of the NNsight reference scripts for nsi's samples.

Each script in this folder runs the experiment of one `Samples/<name>.nsi` on NNsight
(Hugging Face transformers, PyTorch, float32, eager attention, CPU) and writes
`Tests/Fixtures/nnsight/<name>.safetensors` (every value the .nsi script saves, under the
key nsi gives it) and `<name>.json` (prompts, token ids, keys with dtype and shape,
versions, and the sanity checks the script ran). This module loads the model once,
tokenizes, records checks and writes both files.

Written against nnsight 0.8 and transformers 5 (a decoder layer's output is a tensor,
not a tuple; attention modules return `(output, weights)`).
"""
from __future__ import annotations

import json
import os
import platform
import struct
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "Fixtures" / "nnsight"
DEFAULT_MODEL = REPO / "models" / "smollm2-135m"

# The Llama geometry of SmolLM2-135M, checked against the loaded config.
HEADS = 9
KV_HEADS = 3
HEAD_DIM = 64
NUM_LAYERS = 30


@dataclass
class Reference:
    """The loaded model: `lm` is the NNsight wrapper, `hf` the transformers model under it."""

    lm: object
    hf: torch.nn.Module
    tokenizer: object
    model_dir: Path
    threads: int


_LOADED: Reference | None = None


def load(model_dir: str | os.PathLike | None = None, threads: int | None = None) -> Reference:
    """Loads SmolLM2 once per process (float32, eager attention) and wraps it for NNsight.

    The tokenizer pads on the left, as nsi batches prompts; NNsight then adds
    position_ids counted from each row's first real token (checked by batched_trace).
    """
    global _LOADED
    if _LOADED is not None:
        return _LOADED
    threads = threads or int(os.environ.get("NSI_THREADS", "2"))
    torch.set_num_threads(threads)
    model_dir = Path(model_dir or os.environ.get("NSI_MODEL", DEFAULT_MODEL))
    from transformers import AutoModelForCausalLM, AutoTokenizer

    hf = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    hf.eval()
    cfg = hf.config
    assert (cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim) == (
        NUM_LAYERS, HEADS, KV_HEADS, HEAD_DIM), "these scripts are written for SmolLM2-135M"
    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    try:  # nnsight 0.8 names the wrapper TransformersModel; LanguageModel is its deprecated alias
        from nnsight import TransformersModel as Wrapper
        lm = Wrapper(hf, tokenizer=tokenizer, task="text-generation")
    except ImportError:
        from nnsight import LanguageModel as Wrapper
        lm = Wrapper(hf, tokenizer=tokenizer)
    lm.tokenizer.padding_side = "left"
    _LOADED = Reference(lm=lm, hf=hf, tokenizer=tokenizer, model_dir=model_dir, threads=threads)
    return _LOADED


def quiet() -> None:
    """Silences the deprecation and dangling-step warnings nnsight prints on every trace."""
    warnings.simplefilter("ignore")


def encode(ref: Reference, text: str) -> list[int]:
    """Token ids of `text` as nsi tokenizes it (no BOS: the tokenizer adds nothing)."""
    return ref.tokenizer(text, add_special_tokens=True)["input_ids"]


def token_id(ref: Reference, text: str) -> int:
    """`tok(text)` in nsi: the single token id of a string (an error if it is not one token)."""
    ids = encode(ref, text)
    if len(ids) != 1:
        raise ValueError(f"{text!r} is {len(ids)} tokens, not one: {ids}")
    return ids[0]


def run_keeping(ref: Reference, text: str, modules, keep_grad: bool, inputs: bool = False):
    """Runs `text` through transformers (no NNsight), keeping each module's output (its
    first input with `inputs`), with `retain_grad` when `keep_grad`; returns the logits
    and the kept tensors in module order (the gradient twins' hooks)."""
    kept = []

    def keep(t):
        t = t[0] if isinstance(t, tuple) else t
        if keep_grad:
            t.retain_grad()
        kept.append(t)

    handles = [m.register_forward_pre_hook(lambda _m, args: keep(args[0])) if inputs
               else m.register_forward_hook(lambda _m, _a, out: keep(out)) for m in modules]
    try:
        logits = ref.hf(**ref.tokenizer(text, return_tensors="pt")).logits
    finally:
        for h in handles:
            h.remove()
    return logits, kept


def versions() -> dict:
    import nnsight
    import transformers

    return {"nnsight": nnsight.__version__, "transformers": transformers.__version__,
            "torch": torch.__version__, "python": platform.python_version()}


@dataclass
class Golden:
    """The values one sample saves, plus what the JSON file says about them."""

    sample: str
    nsi: str = ""
    tensors: dict = field(default_factory=dict)
    prompts: list = field(default_factory=list)
    tokens: dict = field(default_factory=dict)
    checks: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def save(self, key: str, value: torch.Tensor) -> None:
        """Stores a saved value: floats as f32, integers as i64, detached and contiguous."""
        if key in self.tensors:
            raise KeyError(f"{key} saved twice")
        value = value.detach().cpu()
        value = value.to(torch.float32) if value.is_floating_point() else value.to(torch.int64)
        self.tensors[key] = value.contiguous()

    def save_topk(self, key: str, topk) -> None:
        """A saved `topk(k)` pair is stored as `key.values` (f32) and `key.indices` (i64)."""
        self.save(f"{key}.values", topk.values)
        self.save(f"{key}.indices", topk.indices)

    def prompt(self, ref: Reference, text: str, role: str | None = None) -> list[int]:
        ids = encode(ref, text)
        entry = {"text": text, "ids": ids, "tokens": len(ids)}
        if role:
            entry["role"] = role
        self.prompts.append(entry)
        return ids

    def token(self, ref: Reference, text: str) -> int:
        self.tokens[text] = token_id(ref, text)
        return self.tokens[text]

    def check(self, name: str, actual, expected, tol: float, rel: bool = False) -> None:
        """Asserts |actual - expected| <= tol (times max|expected| when rel) and records it."""
        a = torch.as_tensor(actual, dtype=torch.float64)
        e = torch.as_tensor(expected, dtype=torch.float64)
        diff = (a - e).abs().max().item() if a.numel() else 0.0
        bound = tol * max(1.0, e.abs().max().item()) if rel else tol
        entry = {"name": name, "max_abs_diff": diff, "tolerance": bound, "ok": diff <= bound}
        self.checks.append(entry)
        print(f"  check {name}: max |diff| {diff:.3g} (tolerance {bound:.3g})", flush=True)
        if not entry["ok"]:
            raise AssertionError(f"{self.sample}: check {name} failed: {diff} > {bound}")

    def check_true(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append({"name": name, "ok": bool(ok), **({"detail": detail} if detail else {})})
        print(f"  check {name}: {'ok' if ok else 'FAILED'} {detail}", flush=True)
        if not ok:
            raise AssertionError(f"{self.sample}: check {name} failed {detail}")

    def write(self, ref: Reference, out_dir: Path | None = None) -> None:
        out_dir = Path(out_dir or os.environ.get("NSI_GOLDEN_OUT") or FIXTURES)
        out_dir.mkdir(parents=True, exist_ok=True)
        st = out_dir / f"{self.sample}.safetensors"
        write_safetensors(st, self.tensors)
        back = read_safetensors(st)
        assert sorted(back) == sorted(self.tensors)
        for key, value in self.tensors.items():
            assert torch.equal(back[key], value), key
        meta = {
            "sample": f"Samples/{self.sample}.nsi",
            "script": f"Samples/nnsight/{self.sample}.py",
            "model": ref.model_dir.name,
            "versions": versions(),
            "threads": ref.threads,
            "attn_implementation": "eager",
            "dtype": "float32",
            "prompts": self.prompts,
            "tokens": self.tokens,
            "keys": {k: {"dtype": DTYPES[v.dtype], "shape": list(v.shape)} for k, v in sorted(self.tensors.items())},
            **self.extra,
            "checks": self.checks,
            "notes": self.notes,
        }
        if self.nsi:
            meta["nsi_source"] = self.nsi
        (out_dir / f"{self.sample}.json").write_text(dump_json(meta) + "\n", encoding="utf-8")
        size = st.stat().st_size
        print(f"  wrote {st} ({len(self.tensors)} tensors, {size} bytes)", flush=True)


def dump_json(value, indent: str = "") -> str:
    """JSON with one member per line, but short flat lists and objects (ids, shapes) on one line."""
    flat = json.dumps(value, ensure_ascii=False)
    scalars = isinstance(value, list) and not any(isinstance(v, (list, dict)) for v in value)
    if not isinstance(value, (list, dict)) or len(flat) <= 110 or scalars:
        return flat
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {dump_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    items = [f"{inner}{dump_json(v, inner)}" for v in value]
    return "[\n" + ",\n".join(items) + "\n" + indent + "]"


DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.int32: "I32"}
SIZES = {"F32": 4, "I64": 8, "I32": 4}
TORCH = {"F32": torch.float32, "I64": torch.int64, "I32": torch.int32}


def write_safetensors(path: Path, tensors: dict) -> None:
    """safetensors by hand: u64 LE header length, JSON header (tensors sorted by name,
    padded with spaces to a multiple of 8), then the little-endian data in that order."""
    header = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for key in sorted(tensors):
        t = tensors[key].contiguous()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[key] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path: Path) -> dict:
    """Reads a safetensors file back (the `safetensors` package when installed, else by hand)."""
    try:
        from safetensors.torch import load_file
        return load_file(str(path))
    except ImportError:
        pass
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        a, b = info["data_offsets"]
        buf = bytearray(raw[8 + n + a:8 + n + b])
        out[key] = torch.frombuffer(buf, dtype=TORCH[info["dtype"]]).reshape(info["shape"]) if buf else \
            torch.zeros(info["shape"], dtype=TORCH[info["dtype"]])
    return out


def main(run) -> None:
    """Entry point of a single script: `python Samples/nnsight/<name>.py [--model DIR] [--threads N]`."""
    import argparse

    ap = argparse.ArgumentParser(description=run.__doc__)
    ap.add_argument("--model", default=None, help="model folder (default: $NSI_MODEL or models/smollm2-135m)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: $NSI_THREADS or 2)")
    args = ap.parse_args()
    quiet()
    ref = load(args.model, args.threads)
    with torch.no_grad():
        run(ref)


if __name__ == "__main__":
    sys.exit("common.py is a module; run a sample script or run_all.py")
