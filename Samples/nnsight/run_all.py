#!/usr/bin/env python3
"""Regenerates every NNsight golden file in Tests/Fixtures/nnsight/ with one model load.

    python Samples/nnsight/run_all.py [--model DIR] [--threads N] [--only name,name]

Each sample's script asserts its own sanity checks; a failed check stops the run with a
non-zero exit and leaves that sample's previous files in place.
"""
import argparse
import importlib
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SAMPLES = ["logit_lens", "patching", "steering", "ablation",
           "mean_ablation", "cache_residuals", "batched_trace", "attention_pattern",
           "attribution_patching", "attribution_heads", "frozen_saliency", "integrated_gradients", "linearized",
           "causal_tracing", "direct_logit_attribution", "induction_heads", "generate_then_trace"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model folder (default: $NSI_MODEL or models/smollm2-135m)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: $NSI_THREADS or 2)")
    ap.add_argument("--out", default=None,
                    help="write the files here instead of Tests/Fixtures/nnsight (e.g. to compare a rerun)")
    ap.add_argument("--only", default=",".join(SAMPLES), help="comma-separated samples to run")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in SAMPLES]
    if unknown:
        sys.exit(f"unknown samples: {', '.join(unknown)} (known: {', '.join(SAMPLES)})")
    if args.out:
        os.environ["NSI_GOLDEN_OUT"] = args.out
    common.quiet()
    start = time.perf_counter()
    ref = common.load(args.model, args.threads)
    print(f"loaded {ref.model_dir} in {time.perf_counter() - start:.1f} s, {ref.threads} threads", flush=True)
    for name in names:
        t0 = time.perf_counter()
        with torch.no_grad():
            importlib.import_module(name).run(ref)
        print(f"  {name}: {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"all {len(names)} samples written to {args.out or common.FIXTURES}", flush=True)


if __name__ == "__main__":
    main()
