#!/usr/bin/env python3
"""Prints the table of benchmark rounds: pairs of JSON-lines files (nsi, reference), one
pair per round, each line a measurement with name and median_ms. Per measurement: the
median over rounds of each side's median, and the median of the rounds' ratios with
their range (the sides alternate, so a drifting machine moves both)."""
import json
import statistics
import sys


def load(path):
    with open(path) as f:
        return {r["name"]: r for r in (json.loads(line) for line in f if line.strip())}


def main():
    paths = sys.argv[1:]
    rounds = [(load(paths[i]), load(paths[i + 1]) if i + 1 < len(paths) else {}) for i in range(0, len(paths), 2)]
    ours0, ref0 = rounds[0]
    if "machine" in ours0:
        print(ours0["machine"]["summary"])
    for key in ("torch", "blas"):
        if key in ref0.get("machine", {}):
            print(f"reference {key}: {ref0['machine'][key]}")
    print(f"rounds: {len(rounds)}")
    names = [n for n in ours0 if n not in ("load", "machine")]
    print(f"{'measurement':<14} {'nsi ms':>10} {'reference ms':>13} {'ratio':>7} {'ratio range':>14}")
    for n in names:
        a = [o[n]["median_ms"] for o, _ in rounds if n in o]
        b = [r[n]["median_ms"] for _, r in rounds if n in r]
        ratios = [o[n]["median_ms"] / r[n]["median_ms"] for o, r in rounds if n in o and n in r]
        ma = statistics.median(a)
        mb = f"{statistics.median(b):.1f}" if b else "-"
        ratio = f"{statistics.median(ratios):.2f}" if ratios else "-"
        span = f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"
        print(f"{n:<14} {ma:>10.1f} {mb:>13} {ratio:>7} {span:>14}")


if __name__ == "__main__":
    main()
