"""direct_logit_attribution: Samples/direct_logit_attribution.nsi on NNsight.

One trace of "The Eiffel Tower is located in the city of". The direction is the output
head's row for " Paris" times the final norm's weight (both read from the model's
parameters); the scale is the final RMSNorm's 1/rms at the last token, computed from the
norm's input. Saved: `embed`, `attn.<l>`, `mlp.<l>` (f32[]: each residual term at the
last token, dotted with the direction, times the scale) and `logit` (f32[]: the " Paris"
logit, which they sum to).
"""
import torch

import common

NSI_FILE = common.REPO / "Samples" / "direct_logit_attribution.nsi"

PROMPT = "The Eiffel Tower is located in the city of"


def run(ref: common.Reference) -> None:
    """Writes Tests/Fixtures/nnsight/direct_logit_attribution.{safetensors,json}."""
    print("direct_logit_attribution", flush=True)
    g = common.Golden("direct_logit_attribution", nsi=NSI_FILE.read_text())
    g.prompt(ref, PROMPT)
    paris = g.token(ref, " Paris")
    lm = ref.lm
    n = common.NUM_LAYERS
    eps = ref.hf.config.rms_norm_eps
    with torch.no_grad():
        direction = ref.hf.lm_head.weight[paris] * ref.hf.model.norm.weight
    outs = {}
    with lm.trace(PROMPT):
        # NNsight reads modules in forward order: the terms first, the final norm's input last.
        outs["embed"] = lm.model.embed_tokens.output[0, -1].save()
        for l in range(n):
            layer = lm.model.layers[l]
            outs[f"attn.{l}"] = layer.self_attn.output[0][0, -1].save()
            outs[f"mlp.{l}"] = layer.mlp.output[0, -1].save()
        x = lm.model.norm.input[0, -1].save()
        logit = lm.lm_head.output[0, -1, paris].save()
    with torch.no_grad():
        scale = torch.rsqrt(x.pow(2).mean() + eps)
        term = {k: (v * direction).sum() * scale for k, v in outs.items()}
    embed = term["embed"]
    attn = {l: term[f"attn.{l}"] for l in range(n)}
    mlp = {l: term[f"mlp.{l}"] for l in range(n)}
    g.save("embed", embed)
    for l in range(n):
        g.save(f"attn.{l}", attn[l])
        g.save(f"mlp.{l}", mlp[l])
    g.save("logit", logit)

    total = embed + sum(attn.values()) + sum(mlp.values())
    g.check("the terms sum to the logit", total, logit, 1e-3)
    plain = ref.hf(**ref.tokenizer(PROMPT, return_tensors="pt")).logits[0, -1, paris]
    g.check("logit == plain transformers", logit, plain, 1e-4)
    g.check_true("the direction is read from the tied head (the embedding)",
                 torch.equal(ref.hf.lm_head.weight, ref.hf.model.embed_tokens.weight))
    terms = {"embed": embed.item(), **{f"attn.{l}": attn[l].item() for l in range(n)},
             **{f"mlp.{l}": mlp[l].item() for l in range(n)}}
    g.extra["largest_terms"] = [[k, round(v, 4)] for k, v in sorted(terms.items(), key=lambda kv: -abs(kv[1]))[:6]]
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
