#!/usr/bin/env python3
"""Prints a table of two benchmark runs (JSON lines with name and median_ms) and their ratio."""
import json
import sys


def load(path):
    with open(path) as f:
        return {r["name"]: r for r in (json.loads(line) for line in f if line.strip())}


def main():
    ours, ref = load(sys.argv[1]), load(sys.argv[2]) if len(sys.argv) > 2 else {}
    names = [n for n in ours if n not in ("load", "machine")]
    if "machine" in ours:
        print(ours["machine"]["summary"])
    for key in ("torch", "blas"):
        if key in ref.get("machine", {}):
            print(f"reference {key}: {ref['machine'][key]}")
    print(f"{'measurement':<14} {'nsi ms':>10} {'reference ms':>13} {'ratio':>7}")
    for n in names:
        a = ours[n]["median_ms"]
        b = ref.get(n, {}).get("median_ms")
        ratio = f"{a / b:.2f}" if b else "-"
        print(f"{n:<14} {a:>10.1f} {(f'{b:.1f}' if b else '-'):>13} {ratio:>7}")


if __name__ == "__main__":
    main()
