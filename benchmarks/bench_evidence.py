"""Speed of ``ek.load_evidence`` on the real evidence base and on synthetic trees far larger.

Run: ``.venv/bin/python benchmarks/bench_evidence.py [n ...]`` (default n = 1,000 10,000 and
100,000). Each synthetic tree repeats the real syntheses and screening rows (new ids) until it has
n synthesis rows and n screening records, with the real principles, references and studies.yaml;
the time is for reading and validating everything (the checks are vectorized over rows, so time
should grow about linearly in n). No peers are named in the issue for the loader, so there is no
side-by-side figure.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import evidence_kit as ek

EVIDENCE = Path(__file__).resolve().parents[1] / "evidence"


def _repeat(frames: list[pd.DataFrame], n: int, key: str) -> pd.DataFrame:
    table = pd.concat(frames, ignore_index=True)
    reps = -(-n // len(table))
    big = pd.concat([table] * reps, ignore_index=True).iloc[:n].copy()
    copy = (big.index // len(table)).astype(str)
    if key == "id":  # keep <citation_key>-<n>
        big["id"] = big["id"] + "x" + copy
    else:
        big[key] = big[key] + "-c" + copy
        big["duplicate_of"] = big["duplicate_of"].where(big["duplicate_of"].eq(""), big["duplicate_of"] + "-c" + copy)
    return big


def synthetic_tree(folder: Path, n: int) -> Path:
    root = folder / f"evidence_{n}"
    shutil.copytree(EVIDENCE, root)
    for sub, key in (("syntheses", "id"), ("screening", "record_id")):
        frames = {path: pd.read_csv(path, dtype=str, keep_default_na=False)
                  for path in sorted((root / sub).glob("*.csv"))}
        total = sum(len(f) for f in frames.values())
        for path, frame in frames.items():  # n rows in all, shared in proportion to the real files
            if frame.empty:  # a file with its header only (an area with nothing to record) stays so
                continue
            # never fewer rows than the real file, so every cited record stays in its ledger
            _repeat([frame], max(len(frame), round(n * len(frame) / total)), key).to_csv(path, index=False)
    return root


def timed(path: Path, repeat: int = 3) -> tuple[float, ek.EvidenceBase]:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        base = ek.load_evidence(path, strict=False)
        best = min(best, time.perf_counter() - start)
    return best, base


def main(sizes: list[int]) -> None:
    seconds, base = timed(EVIDENCE)
    print(f"real evidence/: {len(base.syntheses)} synthesis rows, {len(base.screening)} screening records, "
          f"{len(base.references)} references: {seconds * 1e3:.1f} ms (best of 3), {len(base.problems)} problems")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            root = synthetic_tree(Path(tmp), n)
            seconds, base = timed(root, repeat=1 if n >= 100_000 else 3)
            rows = len(base.syntheses) + len(base.screening)
            print(f"synthetic n={n:>7,}: {len(base.syntheses):>7,} synthesis rows + {len(base.screening):>7,} "
                  f"records: {seconds:.2f} s ({rows / seconds:,.0f} rows/s), {len(base.problems)} problems")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000])
