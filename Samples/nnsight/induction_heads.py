"""induction_heads: Samples/induction_heads.nsi on NNsight.

The prompt is 40 token ids: 20 drawn by `randint(1000, 10000, [1, 20], seed = 7)` (nsi's
recipe, in numpy: seeded_random.py), then the same 20 again. For every layer, each head's
mean attention from positions 20..<40 to 1..<21 (the token after the first occurrence of
the current one). Saved: `score.<l>` f32[9]; `first_copy` and `second_copy` f32[], the
log-probabilities of the second copy's first and last tokens at the positions before them.
"""
import torch

import common
import seeded_random

NSI_FILE = common.REPO / "Samples" / "induction_heads.nsi"


def run(ref: common.Reference) -> None:
    """Writes Tests/Fixtures/nnsight/induction_heads.{safetensors,json}."""
    print("induction_heads", flush=True)
    g = common.Golden("induction_heads", nsi=NSI_FILE.read_text())
    r = seeded_random.randint(1000, 10000, [1, 20], 7)
    ids = torch.from_numpy(r).repeat(1, 2)            # [1, 40]
    g.extra["token_ids"] = ids[0].tolist()
    lm = ref.lm
    n, heads = common.NUM_LAYERS, common.HEADS
    scores = {}
    with lm.trace(ids):
        for l in range(n):
            pattern = lm.model.layers[l].self_attn.output[1]          # [1, heads, 40, 40] (eager attention)
            block = pattern[0, :, 20:40, 1:21]
            scores[l] = block.diagonal(dim1=-2, dim2=-1).mean(-1).save()
        logp = lm.lm_head.output[0].log_softmax(-1)
        first = logp[19, int(r[0, 0])].save()
        second = logp[38, int(r[0, 19])].save()
    for l in range(n):
        g.save(f"score.{l}", scores[l])
    g.save("first_copy", first)
    g.save("second_copy", second)

    # The same with plain transformers, no NNsight.
    out = ref.hf(input_ids=ids, output_attentions=True)
    for l in (0, 5, n - 1):
        plain = out.attentions[l][0, :, 20:40, 1:21].diagonal(dim1=-2, dim2=-1).mean(-1)
        g.check(f"score.{l} == plain transformers", scores[l], plain, 1e-5)
    plain_logp = out.logits[0].log_softmax(-1)
    g.check("second_copy == plain transformers", second, plain_logp[38, int(r[0, 19])], 1e-4)
    best = max(((scores[l][h].item(), l, h) for l in range(n) for h in range(heads)))
    g.check_true("some head attends mostly to the induction target", best[0] > 0.5, f"layer {best[1]} head {best[2]}: {best[0]:.3f}")
    g.check_true("the second copy is predicted far better than the first", second.item() > first.item() + 5,
                 f"{first.item():.2f} -> {second.item():.2f}")
    g.extra["best_head"] = {"layer": best[1], "head": best[2], "score": round(best[0], 4)}
    g.extra["log_probs"] = {"first_copy": round(first.item(), 4), "second_copy": round(second.item(), 4)}
    g.write(ref)


if __name__ == "__main__":
    common.main(run)
