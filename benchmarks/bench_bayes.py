"""Bayesian random-effects meta-analysis, k = 10: the full posterior summary (target: under 50 ms).

One call computes the posterior of tau by quadrature, the summaries (mode, median, mean, sd,
equal-tailed and shortest intervals) of tau, mu and a new study's theta, the shrinkage estimates of
all k studies, exceedance probabilities and Bayes factors. Also timed: k = 100 and k = 1000.
When Rscript with bayesmeta is available, bayesmeta() on the same data is timed in the same run
(pass --no-r to skip).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_kit.synthesis.bayes import bayes_meta_analysis


def simulate(k: int, seed: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.1, k)
    yi = 0.2 + rng.normal(0, np.sqrt(0.02 + vi))
    return pd.DataFrame({"yi": yi, "vi": vi})


def best_of(fn, repeat: int = 30) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def time_r(dat: pd.DataFrame) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dat.csv"
        dat.to_csv(path, index=False)
        script = (f'if (!requireNamespace("bayesmeta", quietly = TRUE)) quit(status = 3); '
                  f'suppressMessages(library(bayesmeta)); d <- read.csv("{path}"); '
                  'f <- function() bayesmeta(d$yi, sqrt(d$vi), tau.prior = function(t) dhalfnormal(t, scale = 0.5)); '
                  'f(); t <- system.time(for (i in 1:5) f()); cat(t[["elapsed"]] / 5)')
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
        if out.returncode != 0:
            return None
        try:
            return float(out.stdout.strip().split()[-1])
        except (ValueError, IndexError):
            return None


def main() -> None:
    dat = simulate(10)
    bayes_meta_analysis(dat, measure="SMD", threshold=0.25)  # warm-up (imports, BLAS)
    for k in (10, 100, 1000):
        d = simulate(k)
        best, median = best_of(lambda d=d: bayes_meta_analysis(d, measure="SMD", threshold=0.25),
                               repeat=30 if k <= 100 else 5)
        res = bayes_meta_analysis(d, measure="SMD", threshold=0.25)
        print(f"evidence-kit bayes_meta_analysis: k = {k:>4}, half-normal(0.5) tau prior: "
              f"best {1000 * best:6.1f} ms, median {1000 * median:6.1f} ms   "
              f"(mu median {res.summary.loc['mu', 'median']:.4f}, {res.tau_nodes.size} tau nodes)")
    if "--no-r" not in sys.argv:
        r_time = time_r(dat)
        if r_time is None:
            print("bayesmeta: not run (Rscript with the bayesmeta package not available)")
        else:
            print(f"bayesmeta (R):                    k =   10, half-normal(0.5) tau prior: {1000 * r_time:6.1f} ms")


if __name__ == "__main__":
    main()
