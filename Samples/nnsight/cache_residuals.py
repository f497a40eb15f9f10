"""cache_residuals: Samples/cache_residuals.nsi on NNsight.

Caches the residual stream of one prompt: the embedding output (`embed`) and every decoder
layer's output (`resid.0` ... `resid.29`), each f32[1, T, 576].
"""
import torch

import common

NSI_FILE = common.REPO / "Samples" / "cache_residuals.nsi"
PROMPT = "The Eiffel Tower is located in the city of"


def run(ref: common.Reference) -> None:
    """Writes Tests/Fixtures/nnsight/cache_residuals.{safetensors,json}."""
    print("cache_residuals", flush=True)
    g = common.Golden("cache_residuals", nsi=NSI_FILE.read_text())
    g.prompt(ref, PROMPT)
    lm = ref.lm
    n = common.NUM_LAYERS
    resid = {}
    with lm.trace(PROMPT):
        embed = lm.model.embed_tokens.output.clone().save()
        for l in range(n):
            # A decoder layer's output is the residual stream after the block (a tensor in
            # transformers 5). Clone: the snapshot must not alias the running tensor.
            resid[l] = lm.model.layers[l].output.clone().save()
        logits = lm.lm_head.output.save()
    g.save("embed", embed)
    for l in range(n):
        g.save(f"resid.{l}", resid[l])

    out = ref.hf(**ref.tokenizer(PROMPT, return_tensors="pt"), output_hidden_states=True)
    hs = out.hidden_states
    g.check("embed == hidden_states[0]", embed, hs[0], 0.0)
    g.check("resid.l == hidden_states[l + 1] for l < 29", torch.stack([resid[l] for l in range(n - 1)]),
            torch.stack(list(hs[1:n])), 1e-4, rel=True)
    # The last entry of hidden_states is taken after the final norm in transformers, so the
    # last layer is checked through the head instead.
    g.check("lm_head(norm(resid.29)) == logits", ref.hf.lm_head(ref.hf.model.norm(resid[n - 1])), logits, 1e-4)
    g.check("logits == plain transformers", logits, out.logits, 1e-4)
    g.extra["resid_abs_max"] = [round(resid[l].abs().max().item(), 3) for l in range(n)]
    g.notes.append("Values reach ~2e4 at position 0 (the first token's massive activations): compare "
                   "with a tolerance relative to each tensor's largest magnitude.")
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
