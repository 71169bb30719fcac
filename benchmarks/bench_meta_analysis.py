"""Speed and memory of the meta-analysis engine, printed beside its peers in the same run.

    .venv/bin/python benchmarks/bench_meta_analysis.py            # evidence-kit, statsmodels, metafor (if Rscript)
    .venv/bin/python benchmarks/bench_meta_analysis.py --no-r     # skip metafor
    .venv/bin/python benchmarks/bench_meta_analysis.py --full-r   # metafor batch over all 2,000 groups

Targets (issues 3 and 13): REML k = 1,000,000 under 0.5 s; REML k = 1,000 under 5 ms; DL k = 100,000
through ek.meta_analysis at most 0.5x statsmodels' combine_effects; batch REML over 2,000 groups of
20 under 0.1 s with every group converged; memory O(k) (never a k x k matrix). REML includes the
search for the global maximum (boundary + grid scan of the score, see synthesis/_tau2.py). Times are the best of several runs (wall clock,
one process); the machine is shared, so compare figures from the same run only.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.meta_analysis import combine_effects

from evidence_kit import meta_analysis, meta_analysis_batch
from evidence_kit.synthesis import fit
from evidence_kit.synthesis._tau2 import MultipleMaximaWarning


def simulate(k: int, seed: int = 0, tau2: float = 0.1):
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.5, k)
    yi = rng.normal(0.3, np.sqrt(vi + tau2))
    return yi, vi


def best_of(func, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_memory(func) -> int:
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def batch_data(groups: int = 2000, k: int = 20, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), k)
    vi = rng.uniform(0.01, 0.2, groups * k) * 10.0 ** rng.uniform(-1, 1, groups * k)
    tau2 = rng.choice([0.0, 0.01, 0.05, 0.3], groups)
    yi = rng.normal(0.2 + rng.normal(0, np.sqrt(tau2))[g], np.sqrt(vi))
    return pd.DataFrame({"group": g, "yi": yi, "vi": vi})


R_SCRIPT = r"""
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(TRUE)
d1 <- read.csv(args[1]); d2 <- read.csv(args[2]); ngroups <- as.integer(args[3])
t1 <- system.time(rma(d1$yi, d1$vi, method = "REML"))[["elapsed"]]
fails <- 0
t2 <- system.time(for (g in seq_len(ngroups) - 1) {
  s <- d2[d2$group == g, ]
  r <- try(rma(s$yi, s$vi, method = "REML"), silent = TRUE)
  if (inherits(r, "try-error")) fails <- fails + 1
})[["elapsed"]]
cat(sprintf("%.6f %.6f %d\n", t1, t2, fails))
"""


def metafor_times(k1000, batch: pd.DataFrame, ngroups: int):
    with tempfile.TemporaryDirectory() as tmp:
        p1, p2, ps = Path(tmp, "k1000.csv"), Path(tmp, "batch.csv"), Path(tmp, "bench.R")
        pd.DataFrame({"yi": k1000[0], "vi": k1000[1]}).to_csv(p1, index=False)
        batch[batch.group < ngroups].to_csv(p2, index=False)
        ps.write_text(R_SCRIPT)
        out = subprocess.run(["Rscript", str(ps), str(p1), str(p2), str(ngroups)], capture_output=True, text=True,
                             check=True)
    t1, t2, fails = out.stdout.split()
    return float(t1), float(t2), int(fails)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-r", action="store_true", help="skip metafor")
    parser.add_argument("--full-r", action="store_true", help="metafor batch over all 2,000 groups (slow)")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}")
    rows = []

    y6, v6 = simulate(1_000_000)
    fit(y6, v6)  # warm-up
    t, res = best_of(lambda: fit(y6, v6, method="REML"), 5)
    rows.append(("REML k=1,000,000", t, f"target < 0.5 s; {res.iterations} Newton/Fisher iterations"))
    peak = peak_memory(lambda: fit(y6, v6, method="REML"))
    rows.append(("  peak memory, REML k=1,000,000", None,
                 f"{peak / 2**20:.0f} MiB = {peak / 1e6:.0f} bytes per study (a k x k matrix would need "
                 f"{8e12 / 2**40:.1f} TiB)"))

    y3, v3 = simulate(1_000, seed=2)
    t, res = best_of(lambda: fit(y3, v3, method="REML"), 50)
    rows.append(("REML k=1,000", t, "target < 5 ms"))

    y5, v5 = simulate(100_000, seed=3)
    d5 = pd.DataFrame({"yi": y5, "vi": v5})
    t_ek, res = best_of(lambda: meta_analysis(d5, method="DL"), 30)
    t_fit, _ = best_of(lambda: fit(y5, v5, method="DL"), 30)
    t_sm, sm = best_of(lambda: combine_effects(y5, v5, method_re="dl"), 30)
    same = np.isclose(res.tau2, sm.tau2, rtol=1e-10) and np.isclose(res.estimate, sm.mean_effect_re, rtol=1e-10)
    rows.append(("DL k=100,000  ek.meta_analysis (DataFrame)", t_ek,
                 f"ratio ek/sm = {t_ek / t_sm:.2f} (target <= 0.5); same tau^2 and estimate: {same}"))
    rows.append(("DL k=100,000  synthesis.fit (arrays)", t_fit, f"ratio fit/sm = {t_fit / t_sm:.2f}"))
    rows.append(("DL k=100,000  statsmodels combine_effects", t_sm, ""))

    batch = batch_data()
    warnings.simplefilter("ignore", MultipleMaximaWarning)  # two of the 2,000 groups have two maxima
    meta_analysis_batch(batch, by="group")
    t, out = best_of(lambda: meta_analysis_batch(batch, by="group", method="REML"), 10)
    rows.append(("batch REML 2,000 groups x 20", t,
                 f"target < 0.1 s; converged {int(out['converged'].sum())}/{len(out)}"))

    if not args.no_r and shutil.which("Rscript"):
        ngroups = 2000 if args.full_r else 200
        t1, t2, fails = metafor_times((y3, v3), batch, ngroups)
        rows.append(("metafor rma REML k=1,000", t1, "one fit, system.time"))
        rows.append((f"metafor rma REML, {ngroups} separate fits of 20", t2,
                     f"{fails} failed (not converged) of {ngroups}"))
    elif not args.no_r:
        rows.append(("metafor", None, "Rscript not on PATH: skipped"))

    width = max(len(r[0]) for r in rows)
    for name, secs, note in rows:
        shown = "" if secs is None else (f"{secs * 1e3:10.2f} ms" if secs < 1 else f"{secs:10.3f} s ")
        print(f"{name:<{width}}  {shown:>13}  {note}")


if __name__ == "__main__":
    main()
