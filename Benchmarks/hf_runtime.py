#!/usr/bin/env python3
"""Times Hugging Face transformers (PyTorch, float32, CPU) on the same measurements as
nsi-bench: forward of a 10- and a 128-token prompt, and 32 greedy tokens. Prints one JSON
object per measurement. Used by Benchmarks/run-runtime; needs torch and transformers."""
import argparse
import json
import statistics
import time

import torch
from transformers import AutoModelForCausalLM

BASE = [504, 3575, 282, 4649, 314, 6403, 1980, 253, 655, 28, 665, 436, 253, 1838, 8085, 617]


def prompt_ids(n):
    return torch.tensor([[BASE[i % len(BASE)] for i in range(n)]])


def timed(fn, repeats):
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return runs


def emit(name, runs, **extra):
    print(json.dumps({"name": name, "median_ms": round(statistics.median(runs), 2),
                      "runs_ms": [round(r, 2) for r in runs], **extra}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/smollm2-135m")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", default="forward10,forward128,generate32")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32, attn_implementation="eager")
    model.eval()
    emit("load", [(time.perf_counter() - start) * 1000], threads=str(torch.get_num_threads()))
    capability = getattr(torch.backends.cpu, "get_cpu_capability", lambda: "unknown")()
    print(json.dumps({"name": "machine", "torch": torch.__version__,
                      "blas": f"{'MKL' if torch.backends.mkl.is_available() else 'no MKL'}, CPU capability {capability}, "
                              f"{torch.get_num_threads()} threads"}), flush=True)
    with torch.inference_mode():
        for name in args.only.split(","):
            if name.startswith("forward") and name[7:].isdigit():
                ids = prompt_ids(int(name[7:]))
                model(ids)
                emit(name, timed(lambda: model(ids), args.repeats))
            elif name == "generate32":
                ids = prompt_ids(10)
                kwargs = dict(max_new_tokens=32, min_new_tokens=32, do_sample=False, pad_token_id=0)
                model.generate(ids, **kwargs)
                emit(name, timed(lambda: model.generate(ids, **kwargs), max(1, args.repeats // 2)))
            else:
                raise SystemExit(f"unknown measurement {name}")


if __name__ == "__main__":
    main()
