"""Speed of ek.find_duplicates on 100,000 synthetic records (target: < 10 s on 2 cores).

Run: ``.venv/bin/python benchmarks/bench_dedupe.py [n]``. Prints the time to read nothing (the
records are built in memory), to deduplicate, and the number of groups found. Synthetic
records: 15% exact DOI duplicates, 5% title/year/author duplicates with case and punctuation
changes, 2% preprint versions; the rest distinct.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

import evidence_kit as ek


def make_records(n: int, seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    words = np.array("school health learning physical activity students teachers outcomes "
                     "meta analysis trial wellbeing attendance nutrition sleep effect".split())
    base = max(1, int(n * 0.78))
    records = []
    for i in range(base):
        title = " ".join(rng.choice(words, 8)) + f" {i}"
        records.append(ek.Citation(
            id=f"r{i}", type="article-journal", title=title.capitalize(),
            author=[{"family": f"Author{i % 5000}", "given": "A."}],
            issued={"date-parts": [[int(2000 + i % 24)]]}, DOI=f"10.1000/{i}",
            **{"container-title": "Journal of School Health"}))
    k = base
    while len(records) < n:
        src = records[int(rng.integers(base))]
        u = rng.random()
        dup = ek.Citation(src)
        dup["id"] = f"d{k}"
        if u < 0.68:
            dup["DOI"] = "https://doi.org/" + src["DOI"].upper()
        elif u < 0.91:
            dup.pop("DOI")
            dup["title"] = src["title"].upper() + "."
        else:
            dup.pop("DOI")
            dup["container-title"] = "medRxiv"
            dup["issued"] = {"date-parts": [[src.year - 1]]}
        records.append(dup)
        k += 1
    return records


def main(n: int = 100_000) -> None:
    t0 = time.perf_counter()
    records = make_records(n)
    t1 = time.perf_counter()
    c1 = time.process_time()
    groups = ek.find_duplicates(records)
    t2 = time.perf_counter()
    c2 = time.process_time()
    print(f"records: {n:,}  (built in {t1 - t0:.2f} s)")
    print(f"find_duplicates: {t2 - t1:.2f} s wall, {c2 - c1:.2f} s CPU "
          f"({n / (t2 - t1):,.0f} records/s; target < 10 s); load average {os.getloadavg()[0]:.1f}")
    print(f"groups: {groups['group'].nunique():,}  records in groups: {len(groups):,}")
    print(groups["reason"].value_counts().to_string())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
