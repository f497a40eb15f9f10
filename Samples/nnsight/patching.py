"""patching: the brief's activation patching (Samples/patching.nsi) on NNsight.

One trace, 31 invokes batched into one forward pass: the clean prompt, whose residual
stream at position 9 is read after every layer, then 30 copies of the corrupt prompt, copy
l having layer l's output at position 9 overwritten with the clean value. Saved:
`logit_diff.<l>` = logit(" Mary") - logit(" John") at the last position of copy l (f32, []).
"""
import torch

import common

NSI = """\
# patching.nsi — activation patching of the residual stream, every layer
param clean: str = "When John and Mary went to the store, Mary gave a drink to"
param corrupt: str = "When John and Mary went to the store, John gave a drink to"
param pos: int = 9
trace {
    invoke clean {
        for l in 0..<model.num_layers { let c[l] = model.layers[l].output[:, pos] }
    }
    for l in 0..<model.num_layers {
        invoke corrupt {
            model.layers[l].output[:, pos] = c[l]
            let lg = model.logits[0, -1]
            save logit_diff[l] = lg[tok(" Mary")] - lg[tok(" John")]
        }
    }
}
"""

CLEAN = "When John and Mary went to the store, Mary gave a drink to"
CORRUPT = "When John and Mary went to the store, John gave a drink to"
POS = 9


def run(ref: common.Reference) -> None:
    """Writes Tests/Fixtures/nnsight/patching.{safetensors,json}."""
    print("patching", flush=True)
    g = common.Golden("patching", nsi=NSI)
    clean_ids = g.prompt(ref, CLEAN, "clean")
    corrupt_ids = g.prompt(ref, CORRUPT, "corrupt")
    mary, john = g.token(ref, " Mary"), g.token(ref, " John")
    # pos must be a real position of both prompts; here it is the one token they differ in.
    g.check_true("pos 9 is inside both prompts", POS < min(len(clean_ids), len(corrupt_ids)),
                 f"clean {len(clean_ids)} tokens, corrupt {len(corrupt_ids)} tokens")
    differ = [i for i, (a, b) in enumerate(zip(clean_ids, corrupt_ids)) if a != b]
    g.check_true("the prompts differ only at pos 9", differ == [POS] and len(clean_ids) == len(corrupt_ids),
                 f"differing positions {differ}")
    g.extra["pos_tokens"] = {"clean": ref.tokenizer.decode([clean_ids[POS]]),
                             "corrupt": ref.tokenizer.decode([corrupt_ids[POS]])}

    lm = ref.lm
    n = common.NUM_LAYERS
    diffs = {}
    with lm.trace() as tracer:
        c = {}
        with tracer.invoke(CLEAN):
            for l in range(n):
                # `let` is a snapshot: clone, so nothing later can change it.
                c[l] = lm.model.layers[l].output[:, POS].clone()
        for l in range(n):
            with tracer.invoke(CORRUPT):
                # Read the point first, then write: `x[...] = c[l]` would evaluate c[l] before
                # the worker waits for layer l, i.e. before the clean invoke has stored it.
                out = lm.model.layers[l].output
                out[:, POS] = c[l]                        # in place, this invoke's row only
                lg = lm.lm_head.output[0, -1]
                diffs[l] = (lg[mary] - lg[john]).save()
    for l in range(n):
        g.save(f"logit_diff.{l}", diffs[l])

    # Baselines, each prompt alone.
    base = {}
    for name, text in (("clean", CLEAN), ("corrupt", CORRUPT)):
        with lm.trace(text):
            lg = lm.lm_head.output[0, -1]
            base[name] = (lg[mary] - lg[john]).save()
    g.extra["baseline_logit_diff"] = {k: round(v.item(), 5) for k, v in base.items()}
    g.extra["logit_diff"] = [round(diffs[l].item(), 5) for l in range(n)]
    # Patching the last layer at pos 9 cannot reach the last position (13): nothing attends after it.
    g.check("logit_diff.29 == corrupt baseline", diffs[n - 1], base["corrupt"], 1e-4)
    # Every layer again without NNsight: plain transformers forward hooks, one prompt per run.
    enc = {k: ref.tokenizer(t, return_tensors="pt") for k, t in (("clean", CLEAN), ("corrupt", CORRUPT))}
    hidden = ref.hf(**enc["clean"], output_hidden_states=True).hidden_states
    plain = []
    for l in range(n):
        # hidden_states[l + 1] is layer l's output, except the last entry, which is after the final norm.
        layers = ref.hf.model.layers
        captured = {}
        if l == n - 1:
            grab = layers[l].register_forward_hook(lambda m, i, o: captured.setdefault("h", o.clone()))
            ref.hf(**enc["clean"])
            grab.remove()
            clean_h = captured["h"]
        else:
            clean_h = hidden[l + 1]

        def patch(module, inputs, output, clean_h=clean_h):
            output = output.clone()
            output[:, POS] = clean_h[:, POS]
            return output

        hook = layers[l].register_forward_hook(patch)
        lg = ref.hf(**enc["corrupt"]).logits[0, -1]
        hook.remove()
        plain.append(lg[mary] - lg[john])
    g.check("logit_diff.* == plain transformers hooks, one prompt per run",
            torch.stack([diffs[l] for l in range(n)]), torch.stack(plain), 1e-4)
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
