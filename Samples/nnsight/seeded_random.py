"""nsi's seeded random numbers (`randn`, `rand`, `randint`) in numpy.

The recipe docs/language.md gives under "Randomness", written again from that text so that
the NNsight twins can draw the same noise as a script, and so that the test suite can check
nsi's generator against an implementation that is not its own. Run as a script, it writes
Tests/Fixtures/random/reference.json, the draws `SeededRandomTests` compares with.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)


def words(seed: int, count: int) -> np.ndarray:
    """Words 0 ..< count of the SplitMix64 sequence of `seed` (a 64-bit two's complement int)."""
    n = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed & ((1 << 64) - 1)) + n * GAMMA
        z = (z ^ (z >> np.uint64(30))) * M1
        z = (z ^ (z >> np.uint64(27))) * M2
        return z ^ (z >> np.uint64(31))


def rand(shape, seed: int) -> np.ndarray:
    """f32 uniform on [0, 1): the top 24 bits of each word."""
    count = math.prod(shape)
    return ((words(seed, count) >> np.uint64(40)).astype(np.float64) * 2.0 ** -24).astype(np.float32).reshape(shape)


def randn(shape, seed: int) -> np.ndarray:
    """f32 standard normal: Box-Muller on words 2i and 2i+1, in double, rounded once."""
    count = math.prod(shape)
    w = words(seed, 2 * count)
    u1 = (w[0::2] >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    u2 = (w[1::2] >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    z = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * math.pi * u2)
    return z.astype(np.float32).reshape(shape)


def randint(low: int, high: int, shape, seed: int) -> np.ndarray:
    """i64 on low ..< high: low + word mod (high - low)."""
    count = math.prod(shape)
    return (np.int64(low) + (words(seed, count) % np.uint64(high - low)).astype(np.int64)).reshape(shape)


def default_seed(k: int) -> int:
    """The seed of the k-th draw given no `seed` in a script: word k of seed 0, as a signed int."""
    w = int(words(0, k + 1)[k])
    return w - (1 << 64) if w >= 1 << 63 else w


def main() -> None:
    out = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "random" / "reference.json"
    cases = []
    for seed in (0, 1, 42, -7, (1 << 63) - 1):
        cases.append({"fn": "randn", "shape": [3, 7], "seed": seed, "values": randn([3, 7], seed).tolist()})
        cases.append({"fn": "rand", "shape": [13], "seed": seed, "values": rand([13], seed).tolist()})
        cases.append({"fn": "randint", "low": -5, "high": 1000003, "shape": [2, 5], "seed": seed,
                      "values": randint(-5, 1000003, [2, 5], seed).tolist()})
    big = randn([1, 4, 576], 1)
    cases.append({"fn": "randn", "shape": [1, 4, 576], "seed": 1, "values": big.ravel().tolist()})
    doc = {"generator": __doc__.splitlines()[0], "written_by": "Samples/nnsight/seeded_random.py",
           "numpy": np.__version__, "python": sys.version.split()[0],
           "default_seeds": [default_seed(k) for k in range(4)], "cases": cases}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
