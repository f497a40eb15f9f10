"""frozen_saliency: Samples/frozen_saliency.nsi with PyTorch autograd.

Every layer's attention pattern is detached inside transformers' eager attention (the
pattern is computed as usual, then used as a constant), the log-probability of " Paris"
at the last position is differentiated, and the values are saved under the .nsi
script's keys: `log_p`, `saliency` f32[10] (the norm of the gradient at the embedding
output) and `g` f32[10, 576] (the gradient at layer 8's MLP output).
"""
import torch
from transformers.models.llama import modeling_llama

import common

NSI = open(common.REPO / "Samples" / "frozen_saliency.nsi", encoding="utf-8").read()

PROMPT = "The Eiffel Tower is located in the city of"


def frozen_attention(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    """Eager attention whose softmax pattern carries no gradient."""
    k = modeling_llama.repeat_kv(key, module.num_key_value_groups)
    v = modeling_llama.repeat_kv(value, module.num_key_value_groups)
    scores = torch.matmul(query, k.transpose(2, 3)) * scaling
    if attention_mask is not None:
        scores = scores + attention_mask
    pattern = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype).detach()
    return torch.matmul(pattern, v).transpose(1, 2).contiguous(), pattern


def run(ref: common.Reference) -> None:
    print("frozen_saliency", flush=True)
    g = common.Golden("frozen_saliency", nsi=NSI)
    g.prompt(ref, PROMPT)
    paris = g.token(ref, " Paris")
    kept = {}

    def keep(name):
        def hook(_module, _args, out):
            out.retain_grad()
            kept[name] = out
        return hook

    handles = [ref.hf.model.embed_tokens.register_forward_hook(keep("embed")),
               ref.hf.model.layers[8].mlp.register_forward_hook(keep("mlp8"))]
    original = modeling_llama.eager_attention_forward
    modeling_llama.eager_attention_forward = frozen_attention
    try:
        with torch.enable_grad():
            logits = ref.hf(**ref.tokenizer(PROMPT, return_tensors="pt")).logits
            lp = logits[0, -1].log_softmax(-1)[paris]
            lp.backward()
    finally:
        modeling_llama.eager_attention_forward = original
        for h in handles:
            h.remove()
    g.save("log_p", lp)
    g.save("saliency", kept["embed"].grad[0].norm(dim=-1))
    g.save("g", kept["mlp8"].grad[0])
    # Sanity: freezing the pattern changes gradients, not values.
    with torch.no_grad():
        plain = ref.hf(**ref.tokenizer(PROMPT, return_tensors="pt")).logits[0, -1].log_softmax(-1)[paris]
    g.check("log_p with frozen attention == plain log_p", lp.detach(), plain, 1e-6)
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
