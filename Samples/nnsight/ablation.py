"""ablation: the brief's ablation example (Samples/ablation.nsi) on NNsight.

Layer 3's MLP output is zeroed, head 3 of layer 7 is zeroed in the o_proj input (nsi's
`attn.z[:, :, 3]`), and layer 5's attention pattern and the last position's logits are
saved: `pattern` f32 [9, T, T], `logits` f32 [49152].
"""
import torch

import common

NSI = """\
# ablation.nsi — zero one MLP, one attention head; read an attention pattern
trace "The Eiffel Tower is located in the city of" {
    model.layers[3].mlp.output = 0
    model.layers[7].attn.z[:, :, 3] = 0
    save pattern = model.layers[5].attn.pattern[0]
    save logits = model.logits[0, -1]
}
"""

PROMPT = "The Eiffel Tower is located in the city of"
H, D = common.HEADS, common.HEAD_DIM


def run(ref: common.Reference) -> None:
    """Writes Tests/Fixtures/nnsight/ablation.{safetensors,json}."""
    print("ablation", flush=True)
    g = common.Golden("ablation", nsi=NSI)
    g.prompt(ref, PROMPT)
    lm = ref.lm
    # NNsight serves points in the order the model computes them, so the block reads and
    # writes layer 3, then 5, then 7, then the head (the .nsi order is free).
    with lm.trace(PROMPT):
        lm.model.layers[3].mlp.output[:] = 0                  # down_proj output, in place
        # Eager attention returns (o_proj output, softmax probabilities [B, heads, T, S]).
        pattern = lm.model.layers[5].self_attn.output[1][0].save()
        z = lm.model.layers[7].self_attn.o_proj.input         # [B, T, heads * head_dim]
        b, t, _ = z.shape
        z.view(b, t, H, D)[:, :, 3] = 0                       # in place: head 3's 64 columns
        logits = lm.lm_head.output[0, -1].save()
    g.save("pattern", pattern)
    g.save("logits", logits)

    # The same ablation with plain transformers hooks (no NNsight).
    hf = ref.hf
    seen = {}

    def zero_head(module, args):
        x = args[0].clone()
        x.view(x.shape[0], x.shape[1], H, D)[:, :, 3] = 0
        return (x,) + args[1:]

    def keep_pattern(module, args, output):
        seen["pattern"] = output[1][0]          # returns None: the output is left as it is

    hooks = [
        hf.model.layers[3].mlp.register_forward_hook(lambda m, i, o: torch.zeros_like(o)),
        hf.model.layers[5].self_attn.register_forward_hook(keep_pattern),
        hf.model.layers[7].self_attn.o_proj.register_forward_pre_hook(zero_head),
    ]
    plain = hf(**ref.tokenizer(PROMPT, return_tensors="pt")).logits[0, -1]
    for h in hooks:
        h.remove()
    g.check("logits == plain transformers hooks", logits, plain, 1e-4)
    g.check("pattern == plain transformers hooks", pattern, seen["pattern"], 1e-6)
    g.check("pattern rows sum to 1", pattern.sum(-1), torch.ones(H, pattern.shape[1]), 1e-5)
    g.check_true("pattern is causal (zero above the diagonal)",
                 bool((pattern.triu(1) == 0).all()))
    clean = hf(**ref.tokenizer(PROMPT, return_tensors="pt")).logits[0, -1]
    g.extra["top5_ablated"] = [ref.tokenizer.decode([i]) for i in logits.topk(5).indices.tolist()]
    g.extra["top5_clean"] = [ref.tokenizer.decode([i]) for i in clean.topk(5).indices.tolist()]
    g.extra["max_abs_logit_change"] = round((logits - clean).abs().max().item(), 4)
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
