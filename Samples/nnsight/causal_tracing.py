"""causal_tracing: Samples/causal_tracing.nsi on NNsight.

One trace, 62 invokes of "The Eiffel Tower is located in the city of" batched into one
forward pass: the clean run, which keeps every layer's output at the subject's tokens
(0..<4, "The Eiffel Tower") and at the last token (9); a corrupted run, with seeded noise
(`randn(1, 4, 576, seed = 1) * 0.4`, drawn here by the same recipe in numpy) added to
the subject's embeddings; and for each layer l two corrupted runs, one with layer l's clean
output restored at the subject's tokens, one at the last token. Saved: P(" Paris") at the
last position of each, `clean`, `corrupted`, `restore_subject.<l>`, `restore_last.<l>`
(f32[1]).
"""
import torch

import common
import seeded_random

NSI_FILE = common.REPO / "Samples" / "causal_tracing.nsi"

PROMPT = "The Eiffel Tower is located in the city of"
SUBJECT = slice(0, 4)
LAST = 9
SCALE = 0.4


def run(ref: common.Reference) -> None:
    """Writes Tests/Fixtures/nnsight/causal_tracing.{safetensors,json}."""
    print("causal_tracing", flush=True)
    g = common.Golden("causal_tracing", nsi=NSI_FILE.read_text())
    ids = g.prompt(ref, PROMPT)
    subject = ref.tokenizer.decode(ids[SUBJECT])
    g.check_true("tokens 0..<4 are the subject", subject == "The Eiffel Tower", repr(subject))
    g.check_true("position 9 is the last token", len(ids) == LAST + 1, f"{len(ids)} tokens")
    paris = g.token(ref, " Paris")
    noise = torch.from_numpy(seeded_random.randn([1, 4, 576], 1)) * SCALE

    lm = ref.lm
    n = common.NUM_LAYERS
    subject_p, last_p = {}, {}
    with lm.trace() as tracer:
        clean_subject, clean_last = {}, {}
        with tracer.invoke(PROMPT):
            for l in range(n):
                out = lm.model.layers[l].output
                clean_subject[l] = out[:, SUBJECT].clone()
                clean_last[l] = out[:, LAST].clone()
            clean = lm.lm_head.output[:, -1].softmax(-1)[:, paris].save()
        with tracer.invoke(PROMPT):
            lm.model.embed_tokens.output[:, SUBJECT] += noise
            corrupted = lm.lm_head.output[:, -1].softmax(-1)[:, paris].save()
        for l in range(n):
            with tracer.invoke(PROMPT):
                lm.model.embed_tokens.output[:, SUBJECT] += noise
                out = lm.model.layers[l].output
                out[:, SUBJECT] = clean_subject[l]
                subject_p[l] = lm.lm_head.output[:, -1].softmax(-1)[:, paris].save()
            with tracer.invoke(PROMPT):
                lm.model.embed_tokens.output[:, SUBJECT] += noise
                out = lm.model.layers[l].output
                out[:, LAST] = clean_last[l]
                last_p[l] = lm.lm_head.output[:, -1].softmax(-1)[:, paris].save()
    g.save("clean", clean)
    g.save("corrupted", corrupted)
    for l in range(n):
        g.save(f"restore_subject.{l}", subject_p[l])
        g.save(f"restore_last.{l}", last_p[l])

    # The same with plain transformers hooks, no NNsight, one prompt at a time.
    hf = ref.hf
    enc = ref.tokenizer(PROMPT, return_tensors="pt")
    states = {}

    def keep(l):
        def hook(_m, _a, out):
            states[l] = out.clone()
        return hook

    handles = [hf.model.layers[l].register_forward_hook(keep(l)) for l in range(n)]
    plain_clean = hf(**enc).logits[0, -1].softmax(-1)[paris]
    for h in handles:
        h.remove()

    def corrupt(_m, _a, out):
        out = out.clone()
        out[:, SUBJECT] += noise
        return out

    def plain_restored(l, where):
        def restore(_m, _a, out):
            out = out.clone()
            out[:, where] = states[l][:, where]
            return out
        hs = [hf.model.embed_tokens.register_forward_hook(corrupt), hf.model.layers[l].register_forward_hook(restore)]
        try:
            return hf(**enc).logits[0, -1].softmax(-1)[paris]
        finally:
            for h in hs:
                h.remove()

    h = hf.model.embed_tokens.register_forward_hook(corrupt)
    plain_corrupted = hf(**enc).logits[0, -1].softmax(-1)[paris]
    h.remove()
    g.check("clean == plain transformers", clean, plain_clean, 1e-5)
    g.check("corrupted == plain transformers hooks", corrupted, plain_corrupted, 1e-5)
    for l in (0, 12, 22, 23, 29):
        g.check(f"restore_subject.{l} == plain hooks", subject_p[l], plain_restored(l, SUBJECT), 1e-5)
        g.check(f"restore_last.{l} == plain hooks", last_p[l], plain_restored(l, LAST), 1e-5)
    g.check_true("the noise lowers P(Paris) at least tenfold", corrupted.item() * 10 < clean.item(),
                 f"{clean.item():.4f} -> {corrupted.item():.4f}")
    g.check("restoring the last layer at the last token gives the clean run", last_p[n - 1], clean, 1e-5)
    g.extra["p_paris"] = {"clean": round(clean.item(), 5), "corrupted": round(corrupted.item(), 5),
                          "restore_subject": [round(subject_p[l].item(), 5) for l in range(n)],
                          "restore_last": [round(last_p[l].item(), 5) for l in range(n)]}
    g.notes.append("The noise is seeded_random.randn([1, 4, 576], 1) * 0.4: nsi's recipe for randn, in numpy.")
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
