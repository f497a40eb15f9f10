"""attribution_heads: Samples/attribution_heads.nsi with PyTorch autograd.

Each attention's output before o_proj (nsi's attn.z, [B, T, heads, head_dim]) is kept by
a forward pre-hook on o_proj; the corrupt run's logit difference is differentiated, and
each layer's per-head attribution ((clean - corrupt) · grad, summed over head_dim and
positions) is saved as `heads.<l>` (f32[9]). The two prompts run one at a time: the clean
run's values are constants of the corrupt run's graph, as in nsi.
"""
import torch

import common

NSI = open(common.REPO / "Samples" / "attribution_heads.nsi", encoding="utf-8").read()

CLEAN = "When John and Mary went to the store, Mary gave a drink to"
CORRUPT = "When John and Mary went to the store, John gave a drink to"


def head_outputs(ref: common.Reference, text: str, keep_grad: bool):
    """Runs `text`; returns the logits and each layer's o_proj input, [1, T, heads * hd]."""
    return common.run_keeping(ref, text, [layer.self_attn.o_proj for layer in ref.hf.model.layers], keep_grad, inputs=True)


def run(ref: common.Reference) -> None:
    print("attribution_heads", flush=True)
    g = common.Golden("attribution_heads", nsi=NSI)
    g.prompt(ref, CLEAN, "clean")
    g.prompt(ref, CORRUPT, "corrupt")
    mary, john = g.token(ref, " Mary"), g.token(ref, " John")
    with torch.no_grad():
        _, clean = head_outputs(ref, CLEAN, keep_grad=False)
    with torch.enable_grad():
        logits, corrupt = head_outputs(ref, CORRUPT, keep_grad=True)
        (logits[0, -1, mary] - logits[0, -1, john]).backward()
    shape = (1, -1, common.HEADS, common.HEAD_DIM)
    for l in range(common.NUM_LAYERS):
        c, x, grad = clean[l].view(shape), corrupt[l].detach().view(shape), corrupt[l].grad.view(shape)
        g.save(f"heads.{l}", ((c - x) * grad).sum(-1).sum(1)[0])
    top = sorted(((abs(g.tensors[f"heads.{l}"][h].item()), l, h) for l in range(common.NUM_LAYERS)
                  for h in range(common.HEADS)), reverse=True)[:5]
    g.extra["largest_heads"] = [f"L{l}H{h}: {v:.4f}" for v, l, h in top]
    g.check_true("some head's attribution is not zero", top[0][0] > 0)
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
