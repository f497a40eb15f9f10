"""logit_lens: the brief's logit lens (Samples/logit_lens.nsi) on NNsight.

For every layer, the last position's residual stream goes through the final norm and the
output head, and the probability of " Paris" is saved as `p_paris.<layer>` (f32, shape []);
the last position's top-5 logits are saved as `top.values` / `top.indices`.
"""
import nnsight
import torch

import common

NSI = """\
# logit_lens.nsi — at which layer does the model know the answer?
param prompt: str = "The Eiffel Tower is located in the city of"
trace prompt {
    for l in 0..<model.num_layers {
        let h = model.layers[l].output[0, -1]
        save p_paris[l] = model.lm_head(model.norm(h)).softmax(-1)[tok(" Paris")]
    }
    save top = model.logits[0, -1].topk(5)
}
"""

PROMPT = "The Eiffel Tower is located in the city of"


def run(ref: common.Reference) -> None:
    """Writes Tests/Fixtures/nnsight/logit_lens.{safetensors,json}."""
    print("logit_lens", flush=True)
    g = common.Golden("logit_lens", nsi=NSI)
    g.prompt(ref, PROMPT)
    paris = g.token(ref, " Paris")
    lm = ref.lm
    p_paris = {}
    with lm.trace(PROMPT):
        for l in range(common.NUM_LAYERS):
            h = lm.model.layers[l].output[0, -1]
            # Calling norm and lm_head inside the trace runs them ad hoc: their own place in
            # the forward pass (and its occurrence) is untouched.
            p_paris[l] = lm.lm_head(lm.model.norm(h)).softmax(-1)[paris].save()
        logits = lm.lm_head.output[0, -1].save()
        top = nnsight.save(lm.lm_head.output[0, -1].topk(5))
    for l in range(common.NUM_LAYERS):
        g.save(f"p_paris.{l}", p_paris[l])
    g.save_topk("top", top)

    # Sanity: the last layer's lens is the model's own head.
    g.check("p_paris.29 == softmax(logits)[Paris]", p_paris[29], torch.softmax(logits, -1)[paris], 1e-6)
    g.check("top == topk(logits)", top.values, logits.topk(5).values, 0.0)
    # Against transformers without NNsight: hidden_states[l + 1] is layer l's output for l < 29.
    out = ref.hf(**ref.tokenizer(PROMPT, return_tensors="pt"), output_hidden_states=True)
    plain = [torch.softmax(ref.hf.lm_head(ref.hf.model.norm(out.hidden_states[l + 1][0, -1])), -1)[paris]
             for l in range(common.NUM_LAYERS - 1)]
    g.check("p_paris.0..28 == plain transformers lens", torch.stack([p_paris[l] for l in range(29)]),
            torch.stack(plain), 1e-5)
    g.check("logits == plain transformers", logits, out.logits[0, -1], 1e-4)
    g.extra["top_tokens"] = [ref.tokenizer.decode([i]) for i in top.indices.tolist()]
    g.extra["p_paris"] = [round(p_paris[l].item(), 6) for l in range(common.NUM_LAYERS)]
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
