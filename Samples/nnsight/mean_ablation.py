"""mean_ablation: Samples/mean_ablation.nsi on NNsight.

Trace 1 over four prompts of equal length (10 tokens, no padding) takes head 4 of layer 5's
slice of the o_proj input (nsi's `attn.z[:, :, 4]`, f32[4, 10, 64]) and averages it over
the batch, then over the positions; it also saves the unablated last-position top-5 and
" Paris" logits. Trace 2 over the same prompts writes that mean into head 4's slice at every
row and position and saves the same readings. Keys: `head_mean` f32[64], `before.values`
f32[4, 5], `before.indices` i64[4, 5], `paris_before` f32[4], and the same with `after`.
"""
import nnsight
import torch

import common

NSI_FILE = common.REPO / "Samples" / "mean_ablation.nsi"

PROMPTS = [
    "The Eiffel Tower is located in the city of",
    "The Colosseum is located in the city of",
    "The Brandenburg Gate is located in the city of",
    "The Statue of Liberty is located in the city of",
]
LAYER = 5
HEAD = 4
H, D = common.HEADS, common.HEAD_DIM


def head_slice(z: torch.Tensor) -> torch.Tensor:
    """The head's [B, T, head_dim] view of an o_proj input [B, T, heads * head_dim]."""
    b, t, _ = z.shape
    return z.view(b, t, H, D)[:, :, HEAD]


def run(ref: common.Reference) -> None:
    """Writes Tests/Fixtures/nnsight/mean_ablation.{safetensors,json}."""
    print("mean_ablation", flush=True)
    g = common.Golden("mean_ablation", nsi=NSI_FILE.read_text())
    lengths = {len(g.prompt(ref, p)) for p in PROMPTS}
    g.check_true("the four prompts have one length (no padding in the mean)", len(lengths) == 1, f"{lengths}")
    paris = g.token(ref, " Paris")
    lm = ref.lm
    o_proj = lm.model.layers[LAYER].self_attn.o_proj
    with lm.trace(PROMPTS):
        z = head_slice(o_proj.input).clone().save()
        z_mean = z.mean(0).mean(0).save()
        logits = lm.lm_head.output[:, -1]
        before = nnsight.save(logits.topk(5))
        paris_before = logits[:, paris].save()
    with lm.trace(PROMPTS):
        head_slice(o_proj.input)[:] = z_mean        # in place; broadcasts over rows and positions
        logits = lm.lm_head.output[:, -1]
        after = nnsight.save(logits.topk(5))
        paris_after = logits[:, paris].save()
    g.save("head_mean", z_mean)
    g.save_topk("before", before)
    g.save("paris_before", paris_before)
    g.save_topk("after", after)
    g.save("paris_after", paris_after)

    # The same with plain transformers hooks, no NNsight.
    hf = ref.hf
    enc = ref.tokenizer(PROMPTS, return_tensors="pt", padding=True)
    seen = {}

    def grab(module, args):
        b, t, _ = args[0].shape
        seen["z"] = args[0].view(b, t, H, D)[:, :, HEAD].clone()

    def replace(module, args):
        x = args[0].clone()
        b, t, _ = x.shape
        x.view(b, t, H, D)[:, :, HEAD] = seen["z"].mean(dim=(0, 1))
        return (x,) + args[1:]

    hook = hf.model.layers[LAYER].self_attn.o_proj.register_forward_pre_hook(grab)
    plain_before = hf(**enc).logits[:, -1]
    hook.remove()
    hook = hf.model.layers[LAYER].self_attn.o_proj.register_forward_pre_hook(replace)
    plain_after = hf(**enc).logits[:, -1]
    hook.remove()
    g.check("head_mean == mean over batch and positions (one reduction)", z_mean, seen["z"].mean(dim=(0, 1)), 1e-6)
    g.check("before == plain transformers", before.values, plain_before.topk(5).values, 1e-4)
    g.check("after == plain transformers hooks", after.values, plain_after.topk(5).values, 1e-4)
    g.check("paris_after == plain transformers hooks", paris_after, plain_after[:, paris], 1e-4)
    g.check_true("after.indices == plain transformers hooks",
                 torch.equal(after.indices, plain_after.topk(5).indices))
    # Each row of the batch equals that prompt alone.
    for i, p in enumerate(PROMPTS):
        one = hf(**ref.tokenizer(p, return_tensors="pt")).logits[0, -1]
        g.check(f"row {i} before == prompt alone", before.values[i], one.topk(5).values, 1e-4)
    g.extra["top5_before"] = [[ref.tokenizer.decode([i]) for i in row] for row in before.indices.tolist()]
    g.extra["top5_after"] = [[ref.tokenizer.decode([i]) for i in row] for row in after.indices.tolist()]
    g.extra["max_abs_change"] = {"top5_values": round((after.values - before.values).abs().max().item(), 5),
                                 "paris": round((paris_after - paris_before).abs().max().item(), 5)}
    g.extra["head_slice_abs_mean"] = round(z.abs().mean().item(), 5)
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
