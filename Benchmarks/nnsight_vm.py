#!/usr/bin/env python3
"""The NNsight side of nsi's VM benchmarks, on SmolLM2-135M (PyTorch, float32, eager
attention, CPU), to be compared with nsi at the same thread count. Prints one JSON object
per measurement ({name, median_ms, runs_ms, ...}), like hf_runtime.py:

- forward10: a plain transformers forward of a 10-token prompt (no NNsight), the baseline;
- trace_empty10: an NNsight trace of that prompt with an empty body (NNsight's fixed cost);
- trace_rw_layers10: a trace that reads every decoder layer's output and writes it back
  (`out = layer.output; layer.output = out * 1.0`): overhead_ms / overhead_pct are its
  extra time over forward10;
- forward_batch31: a plain forward of the patching batch (31 rows of 14 tokens);
- patching31: the brief's patching example end to end (1 clean + 30 corrupt invokes batched
  into one forward, 30 reads, 30 writes, 30 saved logit differences);
- attribution: Samples/attribution_patching.nsi as PyTorch autograd computes it (its twin in
  Samples/nnsight): the clean prompt's forward without gradients, the corrupt prompt's
  forward keeping every layer output's gradient, `metric.backward()`, the 30 attributions;
  saved_bytes is what autograd keeps for the backward (the tensors its graph saves, weights
  not counted), peak_rss_mib the process's peak resident memory;
- probe_layer4: a trace that only reads model.layers[4].output; probe_layer4_stop: the same
  followed by tracer.stop(); probe_forward10 is the plain forward timed alongside them.
  NNsight does not stop on its own after the last point a trace needs: layers_completed
  says how many decoder layers ran to the end (with the stop, layer 4 computes its output
  and the run ends in its output hook, so 4 complete).

Each line also has median_cpu_ms, the process CPU time of the runs: with --threads 1 it is
robust to other work on a shared machine (time spent descheduled is not counted).
Overheads against the baseline timed alongside (overhead_ms, overhead_pct, per_layer_us) come
from the wall-clock medians, and the cpu_ ones from the CPU-time medians. Measurements that are compared are timed in alternation (a, b, a, b, ...), after one warm-up
run each, so that a change in the machine's load during the run affects them alike.

    python Benchmarks/nnsight_vm.py --threads 2 [--repeats 5] [--model models/smollm2-135m]
"""
import argparse
import json
import os
import statistics
import time
import warnings

import torch

BASE = [504, 3575, 282, 4649, 314, 6403, 1980, 253, 655, 28, 665, 436, 253, 1838, 8085, 617]
CLEAN = "When John and Mary went to the store, Mary gave a drink to"
CORRUPT = "When John and Mary went to the store, John gave a drink to"
POS = 9


def prompt_ids(n):
    return torch.tensor([[BASE[i % len(BASE)] for i in range(n)]])


def timed(fn, repeats, warmup=1):
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return runs


def timed_rounds(fns, repeats, warmup=1):
    """Times several functions in alternation (a, b, c, a, b, c, ...), so that a machine whose
    load changes during the run slows each of them alike; returns {name: runs_ms}."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    runs = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            cpu, start = time.process_time(), time.perf_counter()
            fn()
            runs[name].append((time.perf_counter() - start) * 1000)
            CPU_MS.setdefault(name, []).append((time.process_time() - cpu) * 1000)
    return runs


# Process CPU time of each timed run, by name. With one thread it is what the run would
# take on an idle machine (time spent descheduled is not counted); emitted as median_cpu_ms.
CPU_MS = {}


def overhead(runs, name, base, per=None):
    """Extra time of `name` over `base`, from the wall-clock and the CPU-time medians."""
    out = {}
    for tag, series in (("", runs), ("cpu_", CPU_MS)):
        b, m = statistics.median(series[base]), statistics.median(series[name])
        out[f"{tag}overhead_ms"] = round(m - b, 2)
        out[f"{tag}overhead_pct"] = round(100 * (m - b) / b, 1)
        if per:
            out[f"{tag}per_layer_us"] = round(1000 * (m - b) / per, 1)
    return out


def emit(name, runs, **extra):
    cpu = {"median_cpu_ms": round(statistics.median(CPU_MS[name]), 2)} if name in CPU_MS else {}
    print(json.dumps({"name": name, "median_ms": round(statistics.median(runs), 2),
                      "runs_ms": [round(r, 2) for r in runs], **cpu, **extra}), flush=True)


def main():
    ap = argparse.ArgumentParser(description="NNsight side of the nsi VM benchmarks")
    ap.add_argument("--model", default=os.environ.get("NSI_MODEL", "models/smollm2-135m"))
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", default="hooks,patching,probe")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(args.threads)

    import nnsight
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    start = time.perf_counter()
    hf = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="eager")
    hf.eval()
    tok = AutoTokenizer.from_pretrained(args.model, padding_side="left")
    try:
        from nnsight import TransformersModel
        lm = TransformersModel(hf, tokenizer=tok, task="text-generation")
    except ImportError:
        from nnsight import LanguageModel
        lm = LanguageModel(hf, tokenizer=tok)
    emit("load", [(time.perf_counter() - start) * 1000], threads=str(torch.get_num_threads()),
         nnsight=nnsight.__version__, transformers=transformers.__version__, torch=torch.__version__,
         loadavg=[round(x, 2) for x in os.getloadavg()])
    layers = lm.model.layers
    n = len(layers)
    ids = prompt_ids(10)

    def forward10():
        hf(ids)

    def trace_empty():
        with lm.trace(ids):
            pass

    def trace_rw():
        with lm.trace(ids):
            for layer in layers:
                out = layer.output
                layer.output = out * 1.0

    ran = []
    counter = [hf.model.layers[i].register_forward_hook(lambda m, i, o: ran.append(1)) for i in range(n)]

    def count_layers(fn):
        ran.clear()
        fn()
        return len(ran)

    def probe():
        with lm.trace(ids):
            h = layers[4].output.save()
        return h

    def probe_stop():
        with lm.trace(ids) as tracer:
            h = layers[4].output.save()
            tracer.stop()
        return h

    def patching():
        diffs = []
        mary, john = tok(" Mary")["input_ids"][0], tok(" John")["input_ids"][0]
        with lm.trace() as tracer:
            c = {}
            with tracer.invoke(CLEAN):
                for l in range(n):
                    c[l] = layers[l].output[:, POS].clone()
            for l in range(n):
                with tracer.invoke(CORRUPT):
                    out = layers[l].output
                    out[:, POS] = c[l]
                    lg = lm.lm_head.output[0, -1]
                    diffs.append((lg[mary] - lg[john]).save())
        return diffs

    batch31 = tok([CLEAN] + [CORRUPT] * n, return_tensors="pt", padding=True)
    clean_ids, corrupt_ids = tok(CLEAN, return_tensors="pt"), tok(CORRUPT, return_tensors="pt")
    mary, john = tok(" Mary")["input_ids"][0], tok(" John")["input_ids"][0]
    weights = {p.untyped_storage().data_ptr() for p in hf.parameters()}
    saved = {}

    def outputs_of(inputs, keep):
        kept = []

        def hook(_m, _a, out):
            h = out[0] if isinstance(out, tuple) else out
            if keep:
                h.retain_grad()
            kept.append(h)
        handles = [layer.register_forward_hook(hook) for layer in hf.model.layers]
        try:
            return hf(**inputs).logits, kept
        finally:
            for h in handles:
                h.remove()

    def attribution():
        with torch.no_grad():
            _, clean = outputs_of(clean_ids, False)
        storages = {}

        def pack(t):
            ptr = t.untyped_storage().data_ptr()
            if ptr not in weights:
                storages[ptr] = t.untyped_storage().nbytes()
            return t
        with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            logits, corrupt = outputs_of(corrupt_ids, True)
            metric = logits[0, -1, mary] - logits[0, -1, john]
        with torch.enable_grad():
            metric.backward()
        saved["bytes"] = sum(storages.values())
        return [((c - x.detach()) * x.grad).sum(-1)[0] for c, x in zip(clean, corrupt)]

    def forward_batch31():
        hf(**batch31)

    with torch.no_grad():
        for what in args.only.split(","):
            if what == "hooks":
                runs = timed_rounds({"forward10": forward10, "trace_empty10": trace_empty,
                                     "trace_rw_layers10": trace_rw}, args.repeats)
                emit("forward10", runs["forward10"])
                emit("trace_empty10", runs["trace_empty10"], **overhead(runs, "trace_empty10", "forward10"))
                emit("trace_rw_layers10", runs["trace_rw_layers10"],
                     **overhead(runs, "trace_rw_layers10", "forward10", per=n))
            elif what == "patching":
                runs = timed_rounds({"forward_batch31": forward_batch31, "patching31": patching}, args.repeats)
                emit("forward_batch31", runs["forward_batch31"], rows=31, tokens=batch31["input_ids"].shape[1])
                emit("patching31", runs["patching31"], invokes=31, **overhead(runs, "patching31", "forward_batch31"))
            elif what == "attribution":
                import resource
                runs = timed_rounds({"attribution": attribution}, args.repeats)
                emit("attribution", runs["attribution"], saved_bytes=saved["bytes"],
                     peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
            elif what == "probe":
                runs = timed_rounds({"probe_forward10": forward10, "probe_layer4": probe,
                                     "probe_layer4_stop": probe_stop}, args.repeats)
                for name, fn in (("probe_forward10", forward10), ("probe_layer4", probe), ("probe_layer4_stop", probe_stop)):
                    emit(name, runs[name], layers_completed=count_layers(fn), **overhead(runs, name, "probe_forward10"))
            else:
                raise SystemExit(f"unknown measurement group {what}")
    for h in counter:
        h.remove()


if __name__ == "__main__":
    main()
