#!/usr/bin/env python3
"""Convert a llama-architecture GGUF file into a Hugging Face style model folder.

Writes, into OUT_DIR:
  config.json              LlamaForCausalLM config built from the GGUF metadata
  generation_config.json   bos/eos/pad ids
  tokenizer.json           byte-level BPE tokenizer rebuilt from tokenizer.ggml.*
  tokenizer_config.json    special token names and the chat template
  model.safetensors        every tensor dequantized to f32 (little endian),
                           Hugging Face names, sorted by name

Only the `gguf` PyPI package (and numpy) is needed; safetensors is written by
hand. Every file is written to a temporary name and renamed into place, so an
interrupted run never leaves a half-written file under the final name.

Usage: gguf_to_hf.py MODEL.gguf OUT_DIR
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time

import numpy as np

try:
    from gguf import GGUFReader
    from gguf.quants import dequantize
except ImportError as exc:  # pragma: no cover - reported to the user
    sys.exit(f"gguf_to_hf: cannot import the 'gguf' package ({exc}); "
             "install it with: python3 -m pip install gguf")


# --------------------------------------------------------------------------
# GGUF metadata helpers

def field_value(reader: GGUFReader, key: str, default=None):
    field = reader.fields.get(key)
    if field is None:
        return default
    return field.contents()


def require(reader: GGUFReader, key: str):
    value = field_value(reader, key)
    if value is None:
        raise SystemExit(f"gguf_to_hf: GGUF metadata key '{key}' is missing")
    return value


def clean_f32(x: float) -> float:
    """Shortest decimal that round-trips through float32 (9.99999974e-06 -> 1e-05)."""
    return float(str(np.float32(x)))


# --------------------------------------------------------------------------
# Tensor names

PER_LAYER = {
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
    "attn_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
}
GLOBAL = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",  # only present when embeddings are untied
}


def hf_name(name: str) -> str:
    if name in GLOBAL:
        return GLOBAL[name]
    if name.startswith("blk."):
        _, layer, rest = name.split(".", 2)
        if rest in PER_LAYER:
            return f"model.layers.{int(layer)}.{PER_LAYER[rest]}"
    raise SystemExit(f"gguf_to_hf: no Hugging Face name known for GGUF tensor '{name}'")


# --------------------------------------------------------------------------
# q/k rotary permutation

def permute_rope(w: np.ndarray, n_head: int) -> np.ndarray:
    """What llama.cpp's convert_hf_to_gguf.py applies to q/k rows (for testing)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute_rope(w: np.ndarray, n_head: int) -> np.ndarray:
    """Inverse of permute_rope: rows [heads, head_dim/2, 2] -> [heads, 2, head_dim/2]."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def self_test_permutation() -> None:
    rng = np.random.default_rng(0)
    for heads, rows in ((9, 576), (3, 192), (2, 8)):
        w = rng.standard_normal((rows, 5)).astype(np.float32)
        assert np.array_equal(unpermute_rope(permute_rope(w, heads), heads), w)
        assert np.array_equal(permute_rope(unpermute_rope(w, heads), heads), w)


# --------------------------------------------------------------------------
# Config files

def build_config(reader: GGUFReader, n_vocab: int) -> dict:
    arch = require(reader, "general.architecture")
    if arch != "llama":
        raise SystemExit(f"gguf_to_hf: architecture '{arch}' is not supported (only llama)")
    hidden = int(require(reader, "llama.embedding_length"))
    heads = int(require(reader, "llama.attention.head_count"))
    kv_heads = int(field_value(reader, "llama.attention.head_count_kv", heads))
    head_dim = int(field_value(reader, "llama.attention.key_length", hidden // heads))
    rope_theta = clean_f32(field_value(reader, "llama.rope.freq_base", 10000.0))
    bos = field_value(reader, "tokenizer.ggml.bos_token_id")
    eos = field_value(reader, "tokenizer.ggml.eos_token_id")
    pad = field_value(reader, "tokenizer.ggml.padding_token_id")
    tied = not any(t.name == "output.weight" for t in reader.tensors)
    # Both the transformers 4 spelling (torch_dtype, rope_theta, rope_scaling)
    # and the transformers 5 spelling (dtype, rope_parameters) are written.
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": None if bos is None else int(bos),
        "dtype": "float32",
        "eos_token_id": None if eos is None else int(eos),
        "head_dim": head_dim,
        "hidden_act": "silu",
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": int(require(reader, "llama.feed_forward_length")),
        "max_position_embeddings": int(require(reader, "llama.context_length")),
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": heads,
        "num_hidden_layers": int(require(reader, "llama.block_count")),
        "num_key_value_heads": kv_heads,
        "pad_token_id": None if pad is None else int(pad),
        "pretraining_tp": 1,
        "rms_norm_eps": clean_f32(require(reader, "llama.attention.layer_norm_rms_epsilon")),
        "rope_parameters": {"rope_theta": rope_theta, "rope_type": "default"},
        "rope_scaling": None,
        "rope_theta": rope_theta,
        "tie_word_embeddings": tied,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": int(field_value(reader, "llama.vocab_size", n_vocab)),
    }


def build_generation_config(config: dict) -> dict:
    out = {}
    for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
        if config.get(key) is not None:
            out[key] = config[key]
    return out


def build_tokenizer_config(reader: GGUFReader, config: dict) -> dict:
    tokens = require(reader, "tokenizer.ggml.tokens")

    def tok(key):
        i = field_value(reader, key)
        return tokens[int(i)] if i is not None and 0 <= int(i) < len(tokens) else None

    out = {
        "add_bos_token": bool(field_value(reader, "tokenizer.ggml.add_bos_token", False)),
        "add_prefix_space": bool(field_value(reader, "tokenizer.ggml.add_space_prefix", False)),
        "bos_token": tok("tokenizer.ggml.bos_token_id"),
        "clean_up_tokenization_spaces": False,
        "eos_token": tok("tokenizer.ggml.eos_token_id"),
        "model_max_length": config["max_position_embeddings"],
        "pad_token": tok("tokenizer.ggml.padding_token_id"),
        "tokenizer_class": "GPT2Tokenizer",
        "unk_token": tok("tokenizer.ggml.unknown_token_id"),
    }
    template = field_value(reader, "tokenizer.chat_template")
    if template is not None:
        out["chat_template"] = template
    return {k: v for k, v in out.items() if v is not None}


# --------------------------------------------------------------------------
# Tokenizer

TOKEN_TYPE_NORMAL, TOKEN_TYPE_CONTROL, TOKEN_TYPE_USER_DEFINED = 1, 3, 4


def build_tokenizer(reader: GGUFReader) -> dict:
    model = require(reader, "tokenizer.ggml.model")
    if model != "gpt2":
        raise SystemExit(f"gguf_to_hf: tokenizer model '{model}' is not supported (only gpt2 byte-level BPE)")
    tokens = require(reader, "tokenizer.ggml.tokens")
    merges = require(reader, "tokenizer.ggml.merges")
    types = field_value(reader, "tokenizer.ggml.token_type", [TOKEN_TYPE_NORMAL] * len(tokens))
    if len(types) != len(tokens):
        raise SystemExit("gguf_to_hf: tokenizer.ggml.token_type and tokenizer.ggml.tokens differ in length")

    vocab = {}
    for i, tok in enumerate(tokens):
        if tok in vocab:
            raise SystemExit(f"gguf_to_hf: duplicate token {tok!r} (ids {vocab[tok]} and {i})")
        vocab[tok] = i

    merge_pairs = []
    for m in merges:
        parts = m.split(" ")
        if len(parts) != 2:
            raise SystemExit(f"gguf_to_hf: merge {m!r} does not have exactly two parts")
        merge_pairs.append(parts)

    added = []
    for i, (tok, ty) in enumerate(zip(tokens, types)):
        if int(ty) in (TOKEN_TYPE_CONTROL, TOKEN_TYPE_USER_DEFINED):
            added.append({
                "id": i,
                "content": tok,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": int(ty) == TOKEN_TYPE_CONTROL,
            })

    add_prefix_space = bool(field_value(reader, "tokenizer.ggml.add_space_prefix", False))
    add_bos = bool(field_value(reader, "tokenizer.ggml.add_bos_token", False))
    bos_id = field_value(reader, "tokenizer.ggml.bos_token_id")
    if add_bos and bos_id is not None:
        bos = tokens[int(bos_id)]
        post = {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": bos, "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": bos, "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": bos, "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {bos: {"id": bos, "ids": [int(bos_id)], "tokens": [bos]}},
        }
    else:
        post = {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {},
        }

    # Key order and values follow what the HF tokenizers library serializes
    # for the tokenizer transformers builds from a GGUF file.
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": add_prefix_space,
                          "trim_offsets": True, "use_regex": True},
        "post_processor": post,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True,
                    "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "",
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": merge_pairs,
        },
    }


# --------------------------------------------------------------------------
# Writing

def write_json(path: str, obj: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        # Same layout as tokenizers' pretty JSON: 2-space indent, raw UTF-8.
        json.dump(obj, f, indent=2, ensure_ascii=False)
    os.replace(tmp, path)


def tensor_plan(reader: GGUFReader, n_head: int, n_kv_head: int):
    """[(hf_name, hf_shape, gguf_tensor, rope_heads_or_None)] sorted by HF name."""
    plan = []
    for t in reader.tensors:
        name = hf_name(t.name)
        shape = [int(x) for x in reversed(t.shape.tolist())]  # GGUF lists innermost first
        heads = None
        if t.name.endswith(".attn_q.weight"):
            heads = n_head
        elif t.name.endswith(".attn_k.weight"):
            heads = n_kv_head
        plan.append((name, shape, t, heads))
    plan.sort(key=lambda p: p[0])
    names = [p[0] for p in plan]
    if len(set(names)) != len(names):
        raise SystemExit("gguf_to_hf: two GGUF tensors map to the same Hugging Face name")
    return plan


def write_safetensors(path: str, plan) -> None:
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape, _, _ in plan:
        nbytes = 4 * int(np.prod(shape, dtype=np.int64))
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    blob += b" " * (-len(blob) % 8)

    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name, shape, t, heads in plan:
            w = dequantize(t.data, t.tensor_type)
            w = np.asarray(w, dtype=np.float32)
            if list(w.shape) != shape:
                w = w.reshape(shape)
            if heads is not None:
                if shape[0] % (2 * heads):
                    raise SystemExit(f"gguf_to_hf: {name}: {shape[0]} rows do not split into {heads} heads")
                w = unpermute_rope(w, heads)
            f.write(np.ascontiguousarray(w, dtype="<f4").tobytes())
        written = f.tell()
    expected = 8 + len(blob) + offset
    if written != expected:
        raise SystemExit(f"gguf_to_hf: wrote {written} bytes, expected {expected}")
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    src, out_dir = argv[1], argv[2]
    self_test_permutation()
    os.makedirs(out_dir, exist_ok=True)

    t0 = time.time()
    reader = GGUFReader(src)
    tokens = require(reader, "tokenizer.ggml.tokens")
    config = build_config(reader, len(tokens))
    print(f"    {os.path.basename(src)}: {len(reader.tensors)} tensors "
          f"({', '.join(sorted({t.tensor_type.name for t in reader.tensors}))}), "
          f"{config['num_hidden_layers']} layers, hidden {config['hidden_size']}, "
          f"heads {config['num_attention_heads']}/{config['num_key_value_heads']}, "
          f"vocab {config['vocab_size']}")

    write_json(os.path.join(out_dir, "config.json"), config)
    write_json(os.path.join(out_dir, "generation_config.json"), build_generation_config(config))
    print("    wrote config.json, generation_config.json")

    tok = build_tokenizer(reader)
    write_json(os.path.join(out_dir, "tokenizer.json"), tok)
    write_json(os.path.join(out_dir, "tokenizer_config.json"), build_tokenizer_config(reader, config))
    print(f"    wrote tokenizer.json, tokenizer_config.json ({len(tok['model']['vocab'])} tokens, "
          f"{len(tok['model']['merges'])} merges, {len(tok['added_tokens'])} added tokens)")

    plan = tensor_plan(reader, config["num_attention_heads"], config["num_key_value_heads"])
    write_safetensors(os.path.join(out_dir, "model.safetensors"), plan)
    size = os.path.getsize(os.path.join(out_dir, "model.safetensors"))
    print(f"    wrote model.safetensors ({len(plan)} f32 tensors, {size / 1e6:.1f} MB) "
          f"in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
