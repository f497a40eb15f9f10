"""integrated_gradients: Samples/integrated_gradients.nsi with PyTorch autograd.

The input embeddings move from a baseline prompt's (b) to the prompt's (x) in 32
midpoint steps, b + (k + 0.5) / 32 · (x - b); log p(" Paris") at the last position is
differentiated with respect to those embeddings, and each step's share
((x - b) · grad).sum(-1) / 32 is saved as `ig.<k>` (f32[T]). The check: the shares add
up to log p(prompt) - log p(baseline) within 10% (completeness; the midpoint rule
converges to it as the steps grow).
"""
import torch

import common

NSI = open(common.REPO / "Samples" / "integrated_gradients.nsi", encoding="utf-8").read()

PROMPT = "The Eiffel Tower is located in the city of"
BASELINE = "The old stone tower is located in the city of"
STEPS = 32


def run(ref: common.Reference) -> None:
    print("integrated_gradients", flush=True)
    g = common.Golden("integrated_gradients", nsi=NSI)
    ids = torch.tensor([g.prompt(ref, PROMPT, "prompt")])
    base = torch.tensor([g.prompt(ref, BASELINE, "baseline")])
    assert ids.shape == base.shape, "the prompt and the baseline must have as many tokens"
    paris = g.token(ref, " Paris")
    with torch.no_grad():
        x = ref.hf.model.embed_tokens(ids)
        b = ref.hf.model.embed_tokens(base)

    def log_p(embeds):
        return ref.hf(inputs_embeds=embeds).logits[0, -1].log_softmax(-1)[paris]

    total = torch.zeros(ids.shape[1])
    for k in range(STEPS):
        alpha = (k + 0.5) / STEPS
        with torch.enable_grad():
            point = (b + alpha * (x - b)).requires_grad_(True)
            log_p(point).backward()
        share = ((x - b)[0] * point.grad[0]).sum(-1) / STEPS
        g.save(f"ig.{k}", share)
        total += share
    with torch.no_grad():
        gap = (log_p(x) - log_p(b)).item()
    g.extra["attribution"] = [round(v, 5) for v in total.tolist()]
    g.extra["completeness"] = {"sum": round(total.sum().item(), 5), "log_p_gap": round(gap, 5)}
    g.check("sum of attributions ~ log p(prompt) - log p(baseline)", total.sum(), torch.tensor(gap), 0.1 * abs(gap))
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
