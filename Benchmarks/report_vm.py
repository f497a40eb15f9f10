#!/usr/bin/env python3
"""Prints the table of Benchmarks/run-vm: pairs of JSON-lines files (nsi, NNsight), one
pair per round. Times are the median over rounds of each side's median; a ratio is the
median of the rounds' ratios, with its range."""
import json
import statistics
import sys


def load(path):
    with open(path) as f:
        return {r["name"]: r for r in (json.loads(line) for line in f if line.strip())}


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    paths = sys.argv[1:]
    rounds = [(load(paths[i]), load(paths[i + 1])) for i in range(0, len(paths), 2)]
    ours0, ref0 = rounds[0]
    if "machine" in ours0:
        print(ours0["machine"]["summary"])
    load0 = ref0.get("load", {})
    print(f"reference: NNsight {load0.get('nnsight', '?')}, transformers {load0.get('transformers', '?')}, "
          f"torch {load0.get('torch', '?')}, {load0.get('threads', '?')} threads")
    print(f"rounds: {len(rounds)}")

    def row(label, ours_name, ref_name):
        a = [o[ours_name]["median_ms"] for o, _ in rounds if ours_name in o]
        b = [r[ref_name]["median_ms"] for _, r in rounds if ref_name in r]
        ratios = [o[ours_name]["median_ms"] / r[ref_name]["median_ms"] for o, r in rounds if ours_name in o and ref_name in r]
        span = f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"
        print(f"{label:<44} {med(a):>9.1f} {med(b):>9.1f} {med(ratios):>6.2f} {span:>11}")

    print(f"{'measurement':<44} {'nsi ms':>9} {'NNsight':>9} {'ratio':>6} {'range':>11}")
    row("forward, 10 tokens (no hooks)", "forward10", "forward10")
    row("read+write every layer, 10 tokens", "trace_rw_layers10", "trace_rw_layers10")
    row("patching sweep, 31 invokes", "patching31", "patching31")
    row("patching sweep, 31 invokes, no sharing", "patching31_unshared", "patching31")
    row("plain forward of the 31 rows", "forward_batch31", "forward_batch31")
    row("attribution patching (forward + backward)", "attribution", "attribution")
    a = ours0.get("attribution", {}), ref0.get("attribution", {})
    if a[0] and a[1]:
        print(f"kept for the backward: nsi {int(a[0]['saved_bytes']) / 1e6:.1f} MB, "
              f"PyTorch autograd {int(a[1]['saved_bytes']) / 1e6:.1f} MB (saved tensors, weights not counted); "
              f"peak RSS nsi {a[0]['peak_rss_mib']} MiB, PyTorch {a[1]['peak_rss_mib']} MiB")
    # Overhead of hooks over each side's own plain forward.
    ours = [(o["trace_rw_layers10"]["median_ms"] - o["forward10"]["median_ms"]) / o["forward10"]["median_ms"] * 100
            for o, _ in rounds if "trace_rw_layers10" in o]
    theirs = [(r["trace_rw_layers10"]["median_ms"] - r["forward10"]["median_ms"]) / r["forward10"]["median_ms"] * 100
              for _, r in rounds if "trace_rw_layers10" in r]
    print(f"read+write every layer over a plain forward: nsi {med(ours):.1f}% (rounds {', '.join(f'{x:.1f}' for x in ours)}), "
          f"NNsight {med(theirs):.1f}%")


if __name__ == "__main__":
    main()
