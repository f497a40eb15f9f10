"""linearized: Samples/linearized.nsi with PyTorch autograd.

transformers' eager attention is patched for the run, and every RMSNorm's output is
replaced by a forward hook, so that every attention pattern and every RMSNorm's
per-position factor 1 / sqrt(mean(x²) + eps) is detached (computed as usual, then used
as a constant; NNsight wraps the modules' forward, so the hook, not a patched forward,
is what reaches them); the logit difference at the last
position is differentiated, and the values are saved under the .nsi script's keys:
`metric`, `input_x_grad` f32[14] (embedding times its gradient, summed per token) and
`grad.<l>` f32[576] (each layer output's gradient at the last position).
"""
import torch
from transformers.models.llama import modeling_llama

import common
from frozen_saliency import frozen_attention

NSI = open(common.REPO / "Samples" / "linearized.nsi", encoding="utf-8").read()

PROMPT = "When John and Mary went to the store, John gave a drink to"


def frozen_rms_norm(module, args, _out):
    """The RMSNorm's output again, with its per-position factor detached."""
    x = args[0].to(torch.float32)
    scale = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + module.variance_epsilon).detach()
    return module.weight * (x * scale).to(args[0].dtype)


def run(ref: common.Reference) -> None:
    print("linearized", flush=True)
    g = common.Golden("linearized", nsi=NSI)
    g.prompt(ref, PROMPT)
    mary, john = g.token(ref, " Mary"), g.token(ref, " John")
    kept = {}

    def keep(name):
        def hook(_module, _args, out):
            h = out[0] if isinstance(out, tuple) else out
            h.retain_grad()
            kept[name] = h
        return hook

    handles = [ref.hf.model.embed_tokens.register_forward_hook(keep("embed"))]
    handles += [layer.register_forward_hook(keep(l)) for l, layer in enumerate(ref.hf.model.layers)]
    norms = [m for m in ref.hf.modules() if isinstance(m, modeling_llama.LlamaRMSNorm)]
    assert len(norms) == 2 * common.NUM_LAYERS + 1
    handles += [m.register_forward_hook(frozen_rms_norm) for m in norms]
    attention = modeling_llama.eager_attention_forward
    modeling_llama.eager_attention_forward = frozen_attention
    try:
        with torch.enable_grad():
            logits = ref.hf(**ref.tokenizer(PROMPT, return_tensors="pt")).logits
            metric = logits[0, -1, mary] - logits[0, -1, john]
            metric.backward()
    finally:
        modeling_llama.eager_attention_forward = attention
        for h in handles:
            h.remove()
    g.save("metric", metric)
    g.save("input_x_grad", (kept["embed"].detach() * kept["embed"].grad).sum(-1)[0])
    for l in range(common.NUM_LAYERS):
        g.save(f"grad.{l}", kept[l].grad[0, -1])
    # Sanity: freezing changes gradients, not values.
    with torch.no_grad():
        plain = ref.hf(**ref.tokenizer(PROMPT, return_tensors="pt")).logits[0, -1]
    g.check("metric with frozen patterns and norms == plain metric", metric.detach(), plain[mary] - plain[john], 1e-5)
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
