"""Time effect_sizes on 1,000,000 rows of SMD and of OR (target: under 1 s each on 2 cores).

Run: ``.venv/bin/python benchmarks/bench_effect_sizes.py``. Prints the best of a few repeats,
with the time of the bare numpy formula beside it (the floor any implementation pays) and the
time of the validation and frame copy on top of it.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import special

import evidence_kit as ek

N = 1_000_000
REPEATS = 3


def best_of(fn, repeats=REPEATS) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(2026)
    n1 = rng.integers(10, 200, N).astype(float)
    n2 = rng.integers(10, 200, N).astype(float)
    means = pd.DataFrame({
        "m1i": rng.normal(10.5, 1, N), "m2i": rng.normal(10, 1, N),
        "sd1i": rng.uniform(1, 3, N), "sd2i": rng.uniform(1, 3, N), "n1i": n1, "n2i": n2,
    })
    ai = rng.binomial(n1.astype(int), 0.2).astype(float)
    ci = rng.binomial(n2.astype(int), 0.3).astype(float)
    tables = pd.DataFrame({"ai": ai, "bi": n1 - ai, "ci": ci, "di": n2 - ci})

    def smd():
        return ek.effect_sizes(means, "SMD", m1i="m1i", m2i="m2i", sd1i="sd1i", sd2i="sd2i", n1i="n1i", n2i="n2i")

    def odds():
        return ek.effect_sizes(tables, "OR", ai="ai", bi="bi", ci="ci", di="di")

    def smd_numpy():
        m = n1 + n2 - 2
        sp = np.sqrt(((n1 - 1) * means["sd1i"].to_numpy() ** 2 + (n2 - 1) * means["sd2i"].to_numpy() ** 2) / m)
        c = np.exp(special.gammaln(m / 2) - np.log(np.sqrt(m / 2)) - special.gammaln((m - 1) / 2))
        g = c * (means["m1i"].to_numpy() - means["m2i"].to_numpy()) / sp
        return g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))

    def or_numpy():
        a, b, c, d = (tables[k].to_numpy() for k in "ai bi ci di".split())
        with np.errstate(divide="ignore", invalid="ignore"):  # zero cells; no correction here
            return np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d

    smd()  # warm up imports and caches
    print(f"effect_sizes on {N:,} rows (best of {REPEATS})")
    print(f"  {'measure':<8}{'effect_sizes':>14}{'bare numpy':>14}")
    for name, full, bare in (("SMD", smd, smd_numpy), ("OR", odds, or_numpy)):
        print(f"  {name:<8}{best_of(full):>12.3f} s{best_of(bare):>12.3f} s")
    print("  (no peers named for this benchmark in issue 2; metafor's escalc is not timed here)")


if __name__ == "__main__":
    main()
