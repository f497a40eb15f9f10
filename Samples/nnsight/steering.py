"""steering: the brief's contrastive steering (Samples/steering.nsi) on NNsight.

`love` and `hate` are layer 10's output at the last position of two separate traces. Then
12 greedy tokens are generated from "I think that you are" with -0.5 * (love - hate) added
to layer 10's output at every step: step 0 is the prompt pass (every prompt position gets
the vector), steps 1..11 are the KV-cached one-token passes (the new token gets it).
Saved: `ids` = prompt ids + the 12 generated ids, i64 [1, 17].

Some greedy choices are close calls (a best-to-second gap of 0.004), which another BLAS
kernel may decide the other way. So the JSON also keeps, for each step, the raw logits
of that step's 8 best tokens on this reference path (`path_top_ids`, `path_top_logits`):
nsi's test runs one steered trace over the prompt and the first 11 generated ids and
compares its logits there, which a close call cannot flip.
"""
import nnsight
import torch

import common

NSI = """\
# steering.nsi — contrastive steering vector, then steered generation
trace "I love you. You are wonderful" { let love = model.layers[10].output[0, -1] }
trace "I hate you. You are terrible" { let hate = model.layers[10].output[0, -1] }
generate "I think that you are" (max_tokens = 12) {
    each step { model.layers[10].output += -0.5 * (love - hate) }
    save ids = result.ids
}
"""

LOVE = "I love you. You are wonderful"
HATE = "I hate you. You are terrible"
PROMPT = "I think that you are"
MAX_TOKENS = 12
LAYER = 10
ALPHA = -0.5


def run(ref: common.Reference) -> None:
    """Writes Tests/Fixtures/nnsight/steering.{safetensors,json}."""
    print("steering", flush=True)
    g = common.Golden("steering", nsi=NSI)
    g.prompt(ref, LOVE, "love")
    g.prompt(ref, HATE, "hate")
    prompt_ids = g.prompt(ref, PROMPT, "generate")
    lm = ref.lm
    with lm.trace(LOVE):
        love = lm.model.layers[LAYER].output[0, -1].clone().save()
    with lm.trace(HATE):
        hate = lm.model.layers[LAYER].output[0, -1].clone().save()
    steer = ALPHA * (love - hate)

    # Greedy: do_sample=False whatever the checkpoint's generation config says. The loop over
    # tracer.iter[:12] binds the body to each of the 12 forward passes generate makes.
    with lm.generate(PROMPT, max_new_tokens=MAX_TOKENS, do_sample=False) as tracer:
        shapes = nnsight.save([])
        for step in tracer.iter[:MAX_TOKENS]:
            out = lm.model.layers[LAYER].output
            shapes.append(list(out.shape))
            lm.model.layers[LAYER].output = out + steer
        ids = tracer.result.save()
    g.save("ids", ids)

    n_prompt = len(prompt_ids)
    generated = ids[0, n_prompt:].tolist()
    g.check_true("ids start with the prompt", ids[0, :n_prompt].tolist() == prompt_ids)
    g.check_true("12 tokens generated", len(generated) == MAX_TOKENS, f"{len(generated)}")
    g.check_true("step 0 is the prompt pass, steps 1..11 one token each",
                 shapes == [[1, n_prompt, 576]] + [[1, 1, 576]] * (MAX_TOKENS - 1),
                 f"{shapes[0]}, then {shapes[1]} x {len(shapes) - 1}")
    eos = ref.hf.generation_config.eos_token_id
    g.check_true("no end-of-sequence token among the generated ids (no early stop to mirror)",
                 eos not in generated, f"eos id {eos}")
    # The same generation through a plain transformers forward hook (no NNsight).
    hook = ref.hf.model.layers[LAYER].register_forward_hook(lambda m, i, o: o + steer)
    enc = ref.tokenizer(PROMPT, return_tensors="pt")
    plain = ref.hf.generate(**enc, max_new_tokens=MAX_TOKENS, do_sample=False, output_scores=True,
                            output_logits=True, return_dict_in_generate=True)
    hook.remove()
    g.check_true("ids == plain transformers generate with a forward hook", torch.equal(plain.sequences, ids))
    # How far each greedy choice is from a tie: the gap between the best and second logit.
    margins = [(s[0].topk(2).values[0] - s[0].topk(2).values[1]).item() for s in plain.scores]
    g.extra["greedy_margins"] = [round(m, 4) for m in margins]
    # The raw logits of each step (before any logits processor), at its 8 best tokens.
    tops = [step[0].topk(8) for step in plain.logits]
    g.extra["path_top_ids"] = [t.indices.tolist() for t in tops]
    g.extra["path_top_logits"] = [[round(v, 5) for v in t.values.tolist()] for t in tops]
    g.check_true("each step's best logit is the generated token",
                 [t[0] for t in g.extra["path_top_ids"]] == generated)
    unsteered = ref.hf.generate(**enc, max_new_tokens=MAX_TOKENS, do_sample=False)
    g.extra["generated_ids"] = generated
    g.extra["text"] = ref.tokenizer.decode(ids[0])
    g.extra["unsteered_ids"] = unsteered[0, n_prompt:].tolist()
    g.extra["unsteered_text"] = ref.tokenizer.decode(unsteered[0])
    g.extra["steer_norm"] = round(steer.norm().item(), 5)
    g.notes.append("ids are stored as i64 (torch's dtype for token ids); nsi's result.ids is i32: compare values.")
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
