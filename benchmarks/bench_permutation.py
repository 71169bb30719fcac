"""1,000 permutations of a REML meta-regression with k = 100 (issue 4: under 1 s).

Prints evidence-kit's time and, when Rscript with metafor is available, metafor's
``permutest(res, iter = 1000)`` on the same data in the same run (pass --no-r to skip).
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

import evidence_kit as ek
from evidence_kit.synthesis.permutation import permutation_test


def simulate(k: int = 100, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=k)
    vi = rng.uniform(0.01, 0.1, k)
    yi = 0.2 + 0.1 * x + rng.normal(0, np.sqrt(0.05 + vi))
    return pd.DataFrame({"yi": yi, "vi": vi, "x": x})


def time_r(dat: pd.DataFrame, iters: int) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dat.csv"
        dat.to_csv(path, index=False)
        script = (f'suppressMessages(library(metafor)); d <- read.csv("{path}"); '
                  'r <- rma(yi, vi, mods = ~ x, data = d); '
                  f't <- system.time(permutest(r, iter = {iters}, progbar = FALSE, seed = 1)); '
                  'cat(t[["elapsed"]])')
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
        try:
            return float(out.stdout.strip().split()[-1])
        except (ValueError, IndexError):
            return None


def main() -> None:
    dat = simulate()
    res = ek.meta_analysis(dat, mods=["x"], method="REML")
    permutation_test(res, 50, seed=0)  # warm-up (imports, BLAS)
    for iters in (1_000, 5_000):
        t0 = time.perf_counter()
        out = permutation_test(res, iters, seed=1)
        elapsed = time.perf_counter() - t0
        print(f"evidence-kit permutation_test: k = 100, {iters:>5} permutations (REML): "
              f"{elapsed:.3f} s   p(x) = {out.coefficients['pvalue'].iloc[1]:.4f}, "
              f"p(QM) = {out.qm_pvalue:.4f}")
    if "--no-r" not in sys.argv:
        r_time = time_r(dat, 1_000)
        if r_time is None:
            print("metafor permutest: not run (Rscript/metafor not available)")
        else:
            print(f"metafor permutest:             k = 100,  1000 permutations (REML): "
                  f"{r_time:.3f} s")


if __name__ == "__main__":
    main()
