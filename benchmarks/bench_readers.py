"""Throughput of the citation readers on 50 MB of each format, and a check that it stays flat.

Run: ``.venv/bin/python benchmarks/bench_readers.py [MB]`` (default 50). For BibTeX, RIS,
MEDLINE, Web of Science and CSL-JSON it writes synthetic records with the library's own writer
(authors, a long abstract wrapped over many lines where the format wraps, keywords, DOI, URL)
until the text reaches the size, then times ``parse_citations(..., strict=False)``. It prints
MB/s (per CPU second of this process) for the full size and for a quarter of it, and their ratio: a reader linear in its input
keeps the ratio near 1 (a quadratic one would fall to about 0.25).

A pathological section times inputs that were quadratic before issue 17 (a field continued
over thousands of lines, a line full of '@', a DOI nested in 10,000 braces, JSON nested
100,000 levels) at two sizes: each must be answered within a second per MB.
"""

from __future__ import annotations

import sys
import time

import evidence_kit as ek
from evidence_kit.citations.io import format_citations, parse_citations

FORMATS = ("bibtex", "ris", "medline", "wos", "csl-json")
_WORDS = ("school health learning physical activity students teachers outcomes meta analysis "
          "trial wellbeing attendance nutrition sleep effect random sample cluster").split()


def _records(n: int, offset: int = 0) -> list:
    out = []
    for i in range(offset, offset + n):
        words = [_WORDS[(i * 7 + j * 3) % len(_WORDS)] for j in range(180)]
        out.append(ek.Citation(
            id=f"r{i}", type="article-journal",
            title=" ".join(words[:12]).capitalize() + f" {i}",
            author=[{"family": f"Author{(i + k) % 997}", "given": "A. B."} for k in range(6)],
            issued={"date-parts": [[2000 + i % 24, 1 + i % 12]]}, volume=str(i % 90),
            issue=str(i % 12), page=f"{i % 400}-{i % 400 + 12}", DOI=f"10.1000/ek.{i}",
            URL=f"https://example.org/article/{i}", abstract=" ".join(words),
            keyword=["Schools, Public", "Child", "Health Promotion"],
            **{"container-title": "Journal of School Health"}))
    return out


def _wrap_lines(text: str, fmt: str) -> str:
    """Wrap long RIS/MEDLINE/WoS values over lines as exports do (continuation lines)."""
    if fmt == "medline":
        return "\n".join(_wrap(line, "      ") if line.startswith("AB  -") else line
                         for line in text.split("\n"))
    if fmt == "wos":
        return "\n".join(_wrap(line, "   ") if line.startswith("AB ") else line
                         for line in text.split("\n"))
    if fmt == "ris":
        return "\n".join(_wrap(line, "") if line.startswith("AB  -") else line
                         for line in text.split("\n"))
    return text


def _wrap(line: str, indent: str, width: int = 80) -> str:
    out, cur = [], ""
    for word in line.split(" "):
        if cur and len(cur) + 1 + len(word) > width:
            out.append(cur)
            cur = indent + word
        else:
            cur = f"{cur} {word}" if cur else word
    out.append(cur)
    return "\n".join(out)


def make_text(fmt: str, mb: float) -> str:
    """About ``mb`` MB of ``fmt``: one 200-record block, repeated (ids renumbered for BibTeX)."""
    block = _wrap_lines(format_citations(_records(200), fmt), fmt)
    reps = max(1, int(mb * 1e6 / len(block.encode("utf-8"))))
    if fmt == "csl-json":  # one array: join the items of the repeated blocks
        inner = block.strip()[1:-1].strip()
        return "[\n" + ",\n".join([inner] * reps) + "\n]\n"
    if fmt == "wos":
        body = block.split("VR 1.0\n", 1)[1].rsplit("\nEF", 1)[0]
        return "FN Clarivate Analytics Web of Science\nVR 1.0\n" + body * reps + "\nEF\n"
    return "\n".join([block] * reps)


def _time(fmt: str, text: str) -> tuple[float, int, int]:
    t0 = time.process_time()  # CPU seconds: steady on a shared machine, as wall time is not
    records, failures = parse_citations(text, fmt, strict=False)
    return time.process_time() - t0, len(records), len(failures)


def throughput(mb: float) -> None:
    print(f"{'format':<9} {'MB':>6} {'records':>8} {'s':>7} {'MB/s':>7}   {'MB/s at 1/4':>11} "
          f"{'ratio':>6}")
    for fmt in FORMATS:
        _time(fmt, make_text(fmt, 0.5))  # warm up (imports, regex caches) outside the timing
        rows = []
        for size in (mb / 4, mb):
            text = make_text(fmt, size)
            size_mb = len(text.encode("utf-8")) / 1e6
            seconds, n, bad = _time(fmt, text)
            assert bad == 0, f"{fmt}: {bad} failures on the benchmark's own output"
            rows.append((size_mb, n, seconds))
            del text
        (q_mb, _, q_s), (f_mb, f_n, f_s) = rows
        full, quarter = f_mb / f_s, q_mb / q_s
        print(f"{fmt:<9} {f_mb:6.1f} {f_n:8d} {f_s:7.2f} {full:7.1f}   {quarter:11.1f} "
              f"{full / quarter:6.2f}")


def pathological() -> None:
    cases = {
        "RIS field continued over many lines": ("ris", lambda k: "TY  - JOUR\nAB  - x\n"
                                                + "continued abstract line\n" * k + "ER  - \n"),
        "MEDLINE field continued": ("medline", lambda k: "PMID- 1\nAB  - x\n"
                                    + "      continued abstract line\n" * k),
        "BibTeX line full of '@'": ("bibtex", lambda k: "@misc{a, title={A}}\nfree "
                                    + "@" * (24 * k) + "\n"),
        "BibTeX DOI in deep braces": ("bibtex", lambda k: "@misc{a, doi={" + "{" * k + "10.1/x"
                                      + "}" * k + "}}\n"),
        "BibTeX unclosed values": ("bibtex", lambda k: "@misc{a, title={x\n" * (k // 2)),
        "CSL-JSON nested arrays": ("csl-json", lambda k: "[" * k + "]" * k),
    }
    print(f"\n{'pathological input':<38} {'MB':>6} {'s':>7} {'s/MB':>6}   {'4x MB':>6} {'s':>7} "
          f"{'s/MB':>6}")
    for label, (fmt, make) in cases.items():
        out = []
        for k in (25_000, 100_000):
            text = make(k)
            seconds = _time(fmt, text)[0]
            out.append((len(text) / 1e6, seconds))
        (m1, s1), (m2, s2) = out
        print(f"{label:<38} {m1:6.2f} {s1:7.3f} {s1 / m1:6.2f}   {m2:6.2f} {s2:7.3f} {s2 / m2:6.2f}")


if __name__ == "__main__":
    size = float(sys.argv[1]) if len(sys.argv) > 1 else 50.0
    throughput(size)
    pathological()
