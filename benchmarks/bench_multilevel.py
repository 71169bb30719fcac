"""Three-level REML with 20,000 effects in 2,000 schools in 200 districts (issue 4: under 2 s).

Prints wall time (untraced run) and peak traced memory (a second run under tracemalloc) for
k = 5,000, 10,000 and 20,000 effects, so the linear growth in memory (no dense k x k matrix) is
visible beside the timing. With --with-r, also times metafor's
``rma.mv(yi, vi, random = ~ 1 | district/school, sparse = TRUE)`` on the k = 5,000 data set in
the same run (about a minute and a half on the development machine, so not by default).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_kit.synthesis.multilevel import multilevel_meta_analysis


def simulate(k: int, n_schools: int, n_districts: int, seed: int = 20261128) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    school = np.arange(k) % n_schools
    district = school % n_districts
    u_d = rng.normal(0, np.sqrt(0.06), n_districts)
    u_s = rng.normal(0, np.sqrt(0.03), n_schools)
    vi = rng.uniform(0.01, 0.2, k)
    yi = 0.2 + u_d[district] + u_s[school] + rng.normal(0, np.sqrt(vi))
    return pd.DataFrame({"district": district, "school": school, "yi": yi, "vi": vi})


def main() -> None:
    print(f"{'k':>7} {'schools':>8} {'districts':>9} {'seconds':>8} {'peak MiB':>9}  sigma2")
    multilevel_meta_analysis(simulate(500, 50, 5), levels=["district", "school"])  # warm-up
    for k in (5_000, 10_000, 20_000):
        dat = simulate(k, k // 10, k // 100)
        t0 = time.perf_counter()
        res = multilevel_meta_analysis(dat, levels=["district", "school"], method="REML")
        elapsed = time.perf_counter() - t0
        # memory in a second run: tracemalloc slows numpy down, so it is not timed
        tracemalloc.start()
        multilevel_meta_analysis(dat, levels=["district", "school"], method="REML")
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{k:>7} {k // 10:>8} {k // 100:>9} {elapsed:>8.3f} {peak:>9.1f}  "
              f"{np.array2string(res.sigma2, precision=4)}")
    # dense k x k float64 at k = 20,000 would need 3,052 MiB
    print("a dense 20,000 x 20,000 V would take", round(20_000**2 * 8 / 2**20), "MiB")
    if "--with-r" in sys.argv:
        print("metafor rma.mv (sparse = TRUE), k = 5000:", time_r(simulate(5_000, 500, 50)))


def time_r(dat: pd.DataFrame) -> str:
    if shutil.which("Rscript") is None:
        return "not run (no Rscript)"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dat.csv"
        dat.to_csv(path, index=False)
        script = (f'suppressMessages(library(metafor)); d <- read.csv("{path}"); '
                  't <- system.time(r <- rma.mv(yi, vi, random = ~ 1 | district/school, '
                  'data = d, sparse = TRUE)); cat(t[["elapsed"]], r$sigma2)')
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
        parts = out.stdout.split()
        if len(parts) < 3:
            return "failed: " + out.stderr.strip()[-200:]
        return f"{float(parts[0]):.3f} s, sigma2 = [{float(parts[1]):.4f} {float(parts[2]):.4f}]"


if __name__ == "__main__":
    main()
