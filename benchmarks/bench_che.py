"""CHE working model with 20,000 effects in 2,000 studies in 200 districts (issue 16: under 2 s).

The whole recipe is timed: V from ``vcalc`` (rho = 0.6 between the effects of a study), the
multilevel model ``random = ~ 1 | district/study/esid`` by REML with that V, and CR2 robust
inference clustered by district. Prints wall time (untraced run) and peak traced memory (a second
run under tracemalloc) for k = 5,000, 10,000 and 20,000, so the linear growth in memory (no dense
k x k matrix) is visible beside the timing.

metafor, recorded once on the development machine (2 shared cores; R 4.2.2, metafor 3.8.1,
clubSandwich 0.5.8) with ``--with-r`` on the same simulated data at k = 1,000 (100 studies in 10
districts; larger k takes minutes in R):

    V <- vcalc(vi, cluster = study, obs = esid, rho = 0.6)                 6.89 s
    rma.mv(yi, V, random = ~ 1 | district/study/esid, sparse = TRUE)      59.05 s
    coef_test(res, vcov = "CR2", cluster = district)                       1.03 s
    sigma2 = [0.0232 0.0653 0.0172], estimate 0.1575, CR2 se 0.0585, df 9.0

evidence_kit on the same data: sigma2 = [0.0232 0.0653 0.0172], estimate 0.1575, CR2 se 0.0585,
df 9.0, in about 0.5 s for the three steps together.

BLAS threads: run with OPENBLAS_NUM_THREADS=1 (``make bench`` does not set it). On a shared
2-core machine OpenBLAS's threads wait for a core inside every small LAPACK call (the 100 x 100
eigendecompositions of CR2), which made the same run 3-4 times slower; R's reference BLAS is
single-threaded, so the comparison is like for like.
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

from evidence_kit.synthesis.che import che_model
from evidence_kit.synthesis.multilevel import multilevel_meta_analysis
from evidence_kit.synthesis.robust import robust
from evidence_kit.synthesis.vcalc import vcalc

# from one run of `python benchmarks/bench_che.py --with-r` (see the module docstring)
METAFOR_TIMINGS = ("k = 1,000: vcalc 6.89 s, rma.mv (sparse) 59.05 s, clubSandwich CR2 1.03 s "
                   "(recorded; --with-r reruns it)")


def simulate(k: int, n_studies: int, n_districts: int, seed: int = 20261207) -> pd.DataFrame:
    """Effects nested in studies nested in districts, with correlated sampling errors (rho 0.6)."""
    rng = np.random.default_rng(seed)
    study = np.repeat(np.arange(n_studies), k // n_studies)
    district = study % n_districts
    esid = np.arange(k) % (k // n_studies)
    u_d = rng.normal(0, np.sqrt(0.04), n_districts)
    u_s = rng.normal(0, np.sqrt(0.06), n_studies)
    u_e = rng.normal(0, np.sqrt(0.02), k)
    v_study = rng.uniform(0.01, 0.15, n_studies)  # effects of a study share one sample size
    vi = v_study[study] * rng.uniform(0.9, 1.1, k)
    e = rng.normal(0, 1, k) * np.sqrt(0.4) + np.repeat(rng.normal(0, 1, n_studies), k // n_studies) * np.sqrt(0.6)
    yi = 0.2 + u_d[district] + u_s[study] + u_e + e * np.sqrt(vi)
    return pd.DataFrame({"district": district, "study": study, "esid": esid, "yi": yi, "vi": vi})


def run(dat: pd.DataFrame):
    return che_model(dat, cluster="study", es_id="esid", rho=0.6,
                     levels=["district", "study", "esid"], robust_cluster="district")


def phases(dat: pd.DataFrame) -> tuple[float, float, float]:
    """Seconds for vcalc, the REML fit and CR2 (the steps of che_model, timed one by one)."""
    t0 = time.perf_counter()
    V = vcalc(dat, "vi", "study", obs="esid", rho=0.6)
    t1 = time.perf_counter()
    fit = multilevel_meta_analysis(dat, levels=["district", "study", "esid"], V=V)
    t2 = time.perf_counter()
    robust(fit, "district", small_sample="CR2")
    return t1 - t0, t2 - t1, time.perf_counter() - t2


def main() -> None:
    print(f"{'k':>7} {'studies':>8} {'districts':>9} {'seconds':>8} {'vcalc':>6} {'REML':>6} "
          f"{'CR2':>6} {'peak MiB':>9}  sigma2 (district, study, esid)   estimate  CR2 se   df")
    run(simulate(1_000, 100, 10))  # warm-up
    for k in (5_000, 10_000, 20_000):
        dat = simulate(k, k // 10, k // 100)
        t0 = time.perf_counter()
        res = run(dat)
        elapsed = time.perf_counter() - t0
        tv, tf, tr = phases(dat)
        tracemalloc.start()  # memory in a third run: tracemalloc slows numpy down
        run(dat)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        c = res.coefficients.iloc[0]
        print(f"{k:>7} {k // 10:>8} {k // 100:>9} {elapsed:>8.3f} {tv:>6.2f} {tf:>6.2f} {tr:>6.2f} "
              f"{peak:>9.1f}  {np.array2string(res.model.sigma2, precision=4):<31} "
              f"{c['estimate']:.4f}  {c['se']:.4f}  {c['df']:.1f}")
    print("a dense 20,000 x 20,000 V would take", round(20_000**2 * 8 / 2**20), "MiB")
    print("metafor:", METAFOR_TIMINGS)
    if "--with-r" in sys.argv:
        print("metafor + clubSandwich, k = 1000:", time_r(simulate(1_000, 100, 10)))


def time_r(dat: pd.DataFrame) -> str:
    if shutil.which("Rscript") is None:
        return "not run (no Rscript)"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dat.csv"
        dat.to_csv(path, index=False)
        script = (
            'suppressMessages({library(metafor); library(clubSandwich)}); '
            f'd <- read.csv("{path}"); d$esid <- as.character(d$esid); '
            't1 <- system.time(V <- vcalc(vi, cluster = study, obs = esid, rho = 0.6, data = d)); '
            't2 <- system.time(r <- rma.mv(yi, V, random = ~ 1 | district/study/esid, data = d, sparse = TRUE)); '
            't3 <- system.time(ct <- coef_test(r, vcov = "CR2", cluster = d$district)); '
            'cat(t1[["elapsed"]], t2[["elapsed"]], t3[["elapsed"]], r$sigma2, r$beta[1], ct$SE[1], ct$df_Satt[1])')
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
        parts = out.stdout.split()
        if len(parts) < 9:
            return "failed: " + out.stderr.strip()[-300:]
        t1, t2, t3, s1, s2, s3, b, se, df = map(float, parts[:9])
        return (f"vcalc {t1:.2f} s, rma.mv {t2:.2f} s, CR2 {t3:.2f} s; sigma2 = [{s1:.4f} {s2:.4f} "
                f"{s3:.4f}], estimate {b:.4f}, CR2 se {se:.4f}, df {df:.1f}")


if __name__ == "__main__":
    main()
