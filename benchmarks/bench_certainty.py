"""Speed of the certainty functions at sizes well beyond a real review.

Run: ``.venv/bin/python benchmarks/bench_certainty.py [n]`` (default n = 100,000). Prints the
time for: building a RoB 2 assessment of n studies (labels normalized, overall by the RoB 2
algorithm); the weighted summary table behind rob_summary_plot; grade_certainty on a
meta-analysis of n studies (the risk-of-bias join over n weights); umbrella_credibility on n
published meta-analyses; and the improvement index of n effect sizes. No peers are named in
the issue for these; robvis and metaumbrella (R) are not installed here, so no side-by-side.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

import evidence_kit as ek
from evidence_kit.plots.rob import rob_summary_table


@dataclass
class Result:
    k: int
    slab: np.ndarray
    weights: np.ndarray
    estimate: float = 0.2
    ci_lower: float = 0.15
    ci_upper: float = 0.25
    i2: float = 40.0

    def predict(self):
        return pd.DataFrame({"pi_lower": [0.05], "pi_upper": [0.35]})


def timed(label, fn):
    t0 = time.perf_counter()
    out = fn()
    print(f"{label:<58s} {time.perf_counter() - t0:8.3f} s")
    return out


def main(n: int) -> None:
    rng = np.random.default_rng(20261128)
    studies = np.array([f"study {i}" for i in range(n)], dtype=object)
    labels = np.array(["low", "Some concerns", "High"], dtype=object)
    df = pd.DataFrame({"study": studies,
                       **{f"D{d}": rng.choice(labels, n, p=[0.6, 0.3, 0.1]) for d in range(1, 6)}})
    print(f"n = {n:,}")
    rob = timed("rob_assessment (RoB 2, n studies)", lambda: ek.rob_assessment(df))
    w = pd.Series(rng.uniform(0.5, 2.0, n), index=studies)
    timed("rob_summary_table (weighted shares)", lambda: rob_summary_table(rob, weights=w))
    res = Result(k=n, slab=studies, weights=100 * w.to_numpy() / w.sum())
    g = timed("grade_certainty (risk-of-bias join over n weights)",
              lambda: ek.grade_certainty(res, rob=rob, indirectness="not serious", small_study={"pvalue": 0.4}))
    print(f"{'  -> level':<58s} {g.level}")
    est = rng.uniform(0.05, 0.8, n)
    se = rng.uniform(0.02, 0.3, n)
    pub = pd.DataFrame({"estimate": est, "ci_lower": est - 1.96 * se, "ci_upper": est + 1.96 * se,
                        "k": rng.integers(3, 60, n), "n_cases": rng.integers(100, 20000, n),
                        "i2": rng.uniform(0, 90, n), "tau2": rng.uniform(0, 0.1, n),
                        "small_study_pvalue": rng.uniform(0, 1, n)})
    out = timed("umbrella_credibility (n published meta-analyses)",
                lambda: ek.umbrella_credibility(pub, n_cases="n_cases", i2="i2", tau2="tau2",
                                                small_study_pvalue="small_study_pvalue"))
    print(f"{'  -> classes':<58s} {out['credibility'].value_counts().to_dict()}")
    timed("improvement_index (n effect sizes)", lambda: ek.improvement_index(est))
    found = pd.DataFrame({"study": studies, "design": "RCT",
                          "rating": rng.choice(["Meets WWC Standards Without Reservations",
                                                "Meets WWC Standards With Reservations",
                                                "Does Not Meet WWC Standards"], n),
                          "effect": rng.choice(["favorable", "null", "unfavorable"], n, p=[0.3, 0.699, 0.001]),
                          "n": rng.integers(50, 3000, n), "sites": rng.integers(1, 40, n),
                          "outcome": rng.choice([f"outcome {i}" for i in range(5000)], n),
                          "standards_version": rng.choice([1.0, 2.1, 3.0, 4.1, 5.0], n)})
    found["significant"] = found["effect"] != "null"
    tier = timed("essa_tier (n findings, per-outcome override)", lambda: ek.essa_tier(found, rationale=False))
    print(f"{'  -> tier':<58s} {tier.label}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
