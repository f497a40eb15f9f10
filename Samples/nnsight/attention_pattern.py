"""attention_pattern: Samples/attention_pattern.nsi on NNsight.

Reads head 2 of layer 3 on one prompt (T = 14): its query after RoPE (`q` f32[T, 64]), the
key after RoPE and value of kv head 0, which serves heads 0-2 (`k`, `v` f32[T, 64]), the
pre-softmax scores with the causal mask added (`scores` f32[T, T], masked entries are the
f32 minimum), the softmax pattern (`pattern` f32[T, T]) and the head's slice of the o_proj
input (`z` f32[T, 64]).

How the points are reached in NNsight (transformers' eager LlamaAttention):
- q, k: `self_attn.source.apply_rotary_pos_emb_0.output` = (q, k) after RoPE, laid out
  [B, heads, T, hd]; transposed to nsi's [B, T, heads, hd]. k is taken before the cache
  update and before repeat_kv, so it has the kv heads only (S = T: no cache in a trace).
- v: `self_attn.source.value_states_0.output` (v_proj output viewed [B, kv_heads, T, hd]).
- scores: inside `eager_attention_forward` (`.source` of the `attention_interface_1` call),
  `attn_weights_1` is `matmul(q, k^T) * scaling + attention_mask`: exactly the tensor softmax
  is applied to.
- pattern: the second output of the attention module, the softmax probabilities eager
  attention returns.
- z: `self_attn.o_proj.input` [B, T, heads * hd] viewed [B, T, heads, hd].
"""
import torch

import common

NSI_FILE = common.REPO / "Samples" / "attention_pattern.nsi"
PROMPT = "When John and Mary went to the store, Mary gave a drink to"
LAYER, HEAD = 3, 2
KV_HEAD = HEAD // (common.HEADS // common.KV_HEADS)
H, D = common.HEADS, common.HEAD_DIM


def rope(x: torch.Tensor, theta: float) -> torch.Tensor:
    """RoPE written out from its definition (rotate-half layout), x: [T, heads, hd], positions 0..T-1."""
    t = x.shape[0]
    inv = 1.0 / theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D)
    ang = torch.arange(t, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1)[:, None], torch.cat([ang.sin(), ang.sin()], -1)[:, None]
    x = x.double()
    half = torch.cat([-x[..., D // 2:], x[..., :D // 2]], -1)
    return x * cos + half * sin


def run(ref: common.Reference) -> None:
    """Writes Tests/Fixtures/nnsight/attention_pattern.{safetensors,json}."""
    print("attention_pattern", flush=True)
    g = common.Golden("attention_pattern", nsi=NSI_FILE.read_text())
    g.prompt(ref, PROMPT)
    lm = ref.lm
    attn = lm.model.layers[LAYER].self_attn
    with lm.trace(PROMPT):
        # Source-instrument the attention forward before it starts (the first .source access
        # rewrites the module's forward; mid-forward would be too late for this pass).
        source = attn.source
        q_lin = attn.q_proj.output.clone().save()                  # for the RoPE check
        k_lin = attn.k_proj.output.clone().save()
        v = source.value_states_0.output.transpose(1, 2)[0, :, KV_HEAD].clone().save()
        q_rot, k_rot = source.apply_rotary_pos_emb_0.output
        q = q_rot.transpose(1, 2)[0, :, HEAD].clone().save()
        k = k_rot.transpose(1, 2)[0, :, KV_HEAD].clone().save()
        scores = source.attention_interface_1.source.attn_weights_1.output[0, HEAD].clone().save()
        z_all = attn.o_proj.input
        b, t, _ = z_all.shape
        z = z_all.view(b, t, H, D)[0, :, HEAD].clone().save()
        pattern = attn.output[1][0, HEAD].clone().save()
    for key, value in (("q", q), ("k", k), ("v", v), ("scores", scores), ("pattern", pattern), ("z", z)):
        g.save(key, value)

    t = q.shape[0]
    theta = ref.hf.config.rope_parameters["rope_theta"]
    g.check("q == RoPE(q_proj output) written out", q, rope(q_lin[0].view(t, H, D), theta)[:, HEAD], 1e-4, rel=True)
    g.check("k == RoPE(k_proj output) written out", k, rope(k_lin[0].view(t, common.KV_HEADS, D), theta)[:, KV_HEAD],
            1e-4, rel=True)
    causal = torch.ones(t, t, dtype=torch.bool).tril()
    g.check("scores == q k^T / sqrt(64) below the diagonal", scores[causal],
            ((q.double() @ k.double().T) / D ** 0.5)[causal], 1e-4, rel=True)
    fmin = torch.finfo(torch.float32).min
    g.check_true("masked scores are exactly the f32 minimum", bool((scores[~causal] == fmin).all()), f"{fmin}")
    g.check("pattern == softmax(scores)", pattern, torch.softmax(scores, -1), 1e-6)
    g.check_true("pattern is exactly 0 above the diagonal", bool((pattern[~causal] == 0).all()))
    g.check("z == pattern @ v", z, pattern.double() @ v.double(), 1e-5, rel=True)
    g.extra["kv_head"] = KV_HEAD
    g.extra["rope_theta"] = theta
    g.notes.append("scores above the diagonal are -3.4028235e38 (f32 minimum): transformers' eager "
                   "attention adds a mask of that value, and score + min rounds to min in f32.")
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
