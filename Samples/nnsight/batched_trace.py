"""batched_trace: Samples/batched_trace.nsi on NNsight.

One forward pass over three prompts of 10, 5 and 1 tokens, left-padded to 10 with an
attention mask; NNsight supplies position_ids counted from each row's first real token.
Saved: `hidden` = layer 12's output at the last position, f32[3, 576]; `top` = the last
position's top-5 logits, `top.values` f32[3, 5] and `top.indices` i64[3, 5].
"""
import nnsight
import torch

import common

NSI_FILE = common.REPO / "Samples" / "batched_trace.nsi"
PROMPTS = ["The Eiffel Tower is located in the city of", "The capital of France is", "Hello"]
LAYER = 12


def run(ref: common.Reference) -> None:
    """Writes Tests/Fixtures/nnsight/batched_trace.{safetensors,json}."""
    print("batched_trace", flush=True)
    g = common.Golden("batched_trace", nsi=NSI_FILE.read_text())
    lengths = [len(g.prompt(ref, p)) for p in PROMPTS]
    lm = ref.lm
    with lm.trace(PROMPTS):
        # What the model was given: the padded ids, the mask as a 4-d additive mask, positions.
        args, kwargs = lm.model.layers[0].inputs
        positions = kwargs["position_ids"].clone().save()
        hidden = lm.model.layers[LAYER].output[:, -1].clone().save()
        top = nnsight.save(lm.lm_head.output[:, -1].topk(5))
    g.save("hidden", hidden)
    g.save_topk("top", top)

    width = max(lengths)
    expected = torch.tensor([[0] * (width - n) + list(range(n)) for n in lengths])
    g.check_true("positions count from each row's first real token", torch.equal(positions, expected),
                 f"{positions.tolist()}")
    enc = ref.tokenizer(PROMPTS, return_tensors="pt", padding=True)
    g.extra["padded_ids"] = enc["input_ids"].tolist()
    g.extra["attention_mask"] = enc["attention_mask"].tolist()
    g.extra["pad_token_id"] = ref.tokenizer.pad_token_id
    # Every row equals its prompt run alone (relative tolerance: layer 12 holds values ~2e4
    # for the one-token row, whose only token is at position 0).
    for i, p in enumerate(PROMPTS):
        with lm.trace(p):
            h1 = lm.model.layers[LAYER].output[0, -1].save()
            lg1 = lm.lm_head.output[0, -1].save()
        g.check(f"row {i} hidden == prompt alone", hidden[i], h1, 1e-4, rel=True)
        g.check(f"row {i} top.values == prompt alone", top.values[i], lg1.topk(5).values, 1e-4)
        g.check_true(f"row {i} top.indices == prompt alone", torch.equal(top.indices[i], lg1.topk(5).indices))
    # And without NNsight: transformers given the padded batch and the same position_ids.
    plain = ref.hf(**enc, position_ids=expected, output_hidden_states=True)
    g.check("hidden == plain transformers (padded batch)", hidden, plain.hidden_states[LAYER + 1][:, -1], 1e-4, rel=True)
    g.check("top.values == plain transformers (padded batch)", top.values, plain.logits[:, -1].topk(5).values, 1e-4)
    g.extra["top_tokens"] = [[ref.tokenizer.decode([i]) for i in row] for row in top.indices.tolist()]
    g.extra["hidden_abs_max"] = [round(hidden[i].abs().max().item(), 3) for i in range(len(PROMPTS))]
    g.notes.append("Row 2 is one token at position 0, whose layer-12 state holds ~2.3e4 (massive "
                   "activations): compare `hidden` with a tolerance relative to its magnitude.")
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
