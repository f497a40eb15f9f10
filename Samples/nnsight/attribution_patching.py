"""attribution_patching: Samples/attribution_patching.nsi with PyTorch autograd.

NNsight's `.grad` shares one autograd graph between the invokes of a trace and must be
read in reverse module order, so this twin uses transformers and autograd directly: a
forward hook keeps every decoder layer's output, `metric.backward()` fills their
gradients, and each value is saved under the key the .nsi script gives it (`metric`,
`attr.<l>` f32[14], `grad.<l>` f32[14, 576]). The two prompts run one at a time: the
clean run's outputs are constants of the corrupt run's graph, as in nsi.
"""
import torch

import common

NSI = open(common.REPO / "Samples" / "attribution_patching.nsi", encoding="utf-8").read()

CLEAN = "When John and Mary went to the store, Mary gave a drink to"
CORRUPT = "When John and Mary went to the store, John gave a drink to"


def layer_outputs(ref: common.Reference, text: str, keep_grad: bool):
    """Runs `text`; returns the logits and each layer's output."""
    return common.run_keeping(ref, text, ref.hf.model.layers, keep_grad)


def run(ref: common.Reference) -> None:
    print("attribution_patching", flush=True)
    g = common.Golden("attribution_patching", nsi=NSI)
    g.prompt(ref, CLEAN, "clean")
    g.prompt(ref, CORRUPT, "corrupt")
    mary, john = g.token(ref, " Mary"), g.token(ref, " John")
    with torch.no_grad():
        _, clean = layer_outputs(ref, CLEAN, keep_grad=False)
    with torch.enable_grad():
        logits, corrupt = layer_outputs(ref, CORRUPT, keep_grad=True)
        metric = logits[0, -1, mary] - logits[0, -1, john]
        metric.backward()
    g.save("metric", metric)
    for l in range(common.NUM_LAYERS):
        grad = corrupt[l].grad
        g.save(f"attr.{l}", ((clean[l] - corrupt[l].detach()) * grad).sum(-1)[0])
        g.save(f"grad.{l}", grad[0])
    # Sanity: the last layer's gradient is the head's row difference through the final norm,
    # and the attribution of the last layer at the last position estimates the clean metric.
    with torch.enable_grad():
        h = corrupt[-1].detach().clone().requires_grad_(True)
        lg = ref.hf.lm_head(ref.hf.model.norm(h))
        (lg[0, -1, mary] - lg[0, -1, john]).backward()
    g.check("grad.29 == d metric / d h through norm and head", corrupt[-1].grad, h.grad, 1e-6, rel=True)
    g.extra["attr_last_position"] = [round(((clean[l] - corrupt[l].detach()) * corrupt[l].grad).sum(-1)[0, -1].item(), 6)
                                     for l in range(common.NUM_LAYERS)]
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
