"""generate_then_trace: Samples/generate_then_trace.nsi on NNsight.

`lm.generate` makes 6 greedy tokens after "The capital of France is"; a trace of the
resulting ids (prompt and generated, as token ids) then reads, at the position before the
last token, the logit lens at every layer. Saved: `ids` i64[1, 11]; `lens` f32[30], the
lens probability of the last generated token at each layer (nsi stacks an indexed name);
`final` f32[], its probability under the model's own logits.
"""
import torch

import common

NSI_FILE = common.REPO / "Samples" / "generate_then_trace.nsi"

PROMPT = "The capital of France is"
MAX_TOKENS = 6


def run(ref: common.Reference) -> None:
    """Writes Tests/Fixtures/nnsight/generate_then_trace.{safetensors,json}."""
    print("generate_then_trace", flush=True)
    g = common.Golden("generate_then_trace", nsi=NSI_FILE.read_text())
    prompt_ids = g.prompt(ref, PROMPT, "generate")
    lm = ref.lm
    with lm.generate(PROMPT, max_new_tokens=MAX_TOKENS, do_sample=False) as tracer:
        ids = tracer.result.save()
    g.save("ids", ids)
    generated = ids[0, len(prompt_ids):].tolist()
    eos = ref.tokenizer.eos_token_id
    g.check_true("6 tokens generated, none of them end-of-sequence", len(generated) == MAX_TOKENS and eos not in generated,
                 f"{generated}")
    last = int(ids[0, -1])
    lens = []
    with lm.trace(ids):
        for l in range(common.NUM_LAYERS):
            h = lm.model.layers[l].output[0, -2]
            lens.append(lm.lm_head(lm.model.norm(h)).softmax(-1)[last].save())
        final = lm.lm_head.output[0, -2].softmax(-1)[last].save()
    g.save("lens", torch.stack([p.detach() for p in lens]))
    g.save("final", final)

    plain = ref.hf(input_ids=ids).logits[0, -2].softmax(-1)
    g.check("final == plain transformers on the generated ids", final, plain[last], 1e-5)
    g.check_true("the last token was the greedy choice", int(plain.argmax()) == last)
    g.check("the last layer's lens is the model's own output", lens[-1], final, 1e-5)
    g.extra["generated_text"] = ref.tokenizer.decode(generated)
    g.extra["lens"] = [float(f"{p.item():.4g}") for p in lens]
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
