"""Published pooled estimates re-pooled with evidence-kit from their study rows
(``evidence/reproductions*.yaml``), beside the estimate as printed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_kit.data import load_dataset
from evidence_kit.effects import effect_sizes
from evidence_kit.plots import forest_plot
from evidence_kit.review._common import _check_principle, _split, short_cite
from evidence_kit.review.grading import RATIO_METRICS
from evidence_kit.synthesis import mantel_haenszel, meta_analysis

_Z95 = 1.959963984540054  # qnorm(0.975)
_RATIO_MEASURES = ("OR", "RR", "ROM", "HR", "IRR")


def _printed_decimals(eb, file: str, sid: str, col: str) -> int | None:
    """Decimals of a number as printed in the syntheses CSV (the loader reads floats, so 0.70 would
    look like 0.7): read the cell as text from the row's file."""
    path = Path(eb.path) / "syntheses" / Path(str(file)).name
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        text = raw.loc[raw["id"] == sid, col].iloc[0].strip()
    except (OSError, KeyError, IndexError, ValueError):
        return None
    if not text:
        return None
    return len(text.split(".", 1)[1]) if "." in text else 0


def study_rows(eb, synthesis_id: str) -> tuple[pd.DataFrame, dict]:
    """The study rows of one reproduction with ``yi`` and ``vi`` (and the raw columns), and its entry.

    A ``dataset`` entry loads the shipped dataset, applies its ``subset`` query and computes yi, vi
    with ``ek.effect_sizes`` and the ``escalc`` arguments (escalc measure GEN: yi and vi, or sei,
    name the dataset's columns; no escalc: the dataset's own yi, vi). A ``file`` entry reads ``eb.reproduction_rows``: GEN rows from yi and a CI
    (vi = ((upper - lower) / (2 x 1.96))^2 on the log scale for ratio metrics) or an SE; other
    measures through ``ek.effect_sizes`` from the printed means, SDs and sizes or events and totals.
    """
    entries = eb.reproductions.set_index("synthesis_id")
    if synthesis_id not in entries.index:
        raise ValueError(f"no reproduction of {synthesis_id!r} in evidence/reproductions*.yaml")
    e = entries.loc[synthesis_id].to_dict()
    e["synthesis_id"] = synthesis_id
    measure = str(e["measure"])
    if isinstance(e.get("dataset"), str) and e["dataset"]:
        data = load_dataset(e["dataset"])
        if isinstance(e.get("subset"), str) and e["subset"].strip():
            data = data.query(e["subset"], engine="python")
        esc = dict(e.get("escalc") or {})
        m = esc.pop("measure", measure)
        if m == "GEN":  # printed estimates with a variance (vi) or a standard error (sei)
            yi = data[esc["yi"]].astype(float)
            vi = data[esc["vi"]].astype(float) if "vi" in esc else data[esc["sei"]].astype(float) ** 2
            data = data.assign(yi=yi, vi=vi)
        elif esc:
            data = effect_sizes(data, measure=m, **esc)
        if "study" not in data.columns:
            lab = [c for c in ("author", "study", "studyid", "school") if c in data.columns]
            data = data.assign(study=(data[lab[0]].astype(str) + (" " + data["year"].astype(str) if "year" in data
                                                                 else "")) if lab else np.arange(1, len(data) + 1))
        return data.reset_index(drop=True), e
    rows = eb.reproduction_rows
    rows = rows.loc[rows["synthesis_id"] == synthesis_id].copy()
    syn = eb.syntheses.set_index("id").loc[synthesis_id]
    if measure == "GEN":
        ratio = str(syn["metric"]) in RATIO_METRICS
        f = np.log if ratio else (lambda x: x)
        yi = f(rows["yi"].to_numpy(float))
        lo, hi = f(rows["ci_lower"].to_numpy(float)), f(rows["ci_upper"].to_numpy(float))
        sei = rows["sei"].to_numpy(float) if "sei" in rows.columns else np.full(len(rows), np.nan)
        se = np.where(np.isnan(lo), sei, (hi - lo) / (2 * _Z95))
        rows["yi"], rows["vi"] = yi, se ** 2
        return rows.reset_index(drop=True), e
    if measure in ("MD", "SMD", "ROM"):
        cols = {c: c for c in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")}
    else:
        rows["bi"], rows["di"] = rows["n1i"] - rows["ai"], rows["n2i"] - rows["ci"]
        cols = {c: c for c in ("ai", "bi", "ci", "di")}
    es = effect_sizes(rows, measure=measure, **cols)
    return es.reset_index(drop=True), e


def refit(eb, synthesis_id: str):
    """The re-pooled fit of one reproduction: ``ek.mantel_haenszel`` for method MH (from the
    events), else ``ek.meta_analysis`` with the review's tau^2 estimator (FE: equal effects)."""
    data, e = study_rows(eb, synthesis_id)
    method = str(e["method"]).upper()
    if method == "MH":
        esc = dict(e.get("escalc") or {})
        names = {c: esc.get(c, c) for c in ("ai", "bi", "ci", "di")}
        return mantel_haenszel(data, measure=str(esc.get("measure", e["measure"])), **names)
    slab = "study" if "study" in data.columns else None
    return meta_analysis(data.dropna(subset=["yi", "vi"]), method=method, slab=slab)


def _back(measure: str, metric: str):
    """How a pooled value on the analysis scale becomes the printed scale."""
    if measure in ("ZCOR",) and metric == "r":
        return np.tanh
    if measure in _RATIO_MEASURES or metric in RATIO_METRICS:
        return np.exp
    return lambda x: x


def reproductions(eb, principle: str | None = None) -> pd.DataFrame:
    """Each reproduced estimate re-pooled with evidence-kit beside the published one.

    Returns
    -------
    DataFrame, one row per entry of ``evidence/reproductions*.yaml`` (of one principle, if given):
    ``synthesis_id``, ``principle``, ``question``, ``outcome_domain``, ``source``, ``outcome``,
    ``data`` (the dataset or CSV), ``measure``, ``method``, ``k`` (rows pooled), ``metric``,
    ``published``, ``published_lower``, ``published_upper`` (as printed), ``reproduced``,
    ``reproduced_lower``, ``reproduced_upper`` (on the printed scale), ``difference`` (reproduced
    minus published), ``decimals`` (printed), ``estimate_agrees`` (the estimate within half a unit
    of its last printed decimal), ``agrees`` (the estimate and both limits so; limits compared only
    when printed) and ``notes``.
    """
    rep = eb.reproductions
    syn = eb.syntheses.set_index("id")
    if principle is not None:
        principle = _check_principle(eb, principle)
    out = []
    for e in rep.to_dict("records") if len(rep) else []:
        sid = e["synthesis_id"]
        row = syn.loc[sid]
        if principle is not None and principle not in _split(row["principle"]):
            continue
        fit = refit(eb, sid)
        back = _back(str(e["measure"]), str(row["metric"]))
        est, lo, hi = (float(back(v)) for v in (fit.estimate, fit.ci_lower, fit.ci_upper))
        pub = [float(row[c]) for c in ("estimate", "ci_lower", "ci_upper")]
        decs = {c: _printed_decimals(eb, row["file"], sid, c) for c in ("estimate", "ci_lower", "ci_upper")}
        dec = 2 if decs["estimate"] is None else decs["estimate"]
        checks = [abs(r - p) <= 0.5 * 10.0 ** -(dec if decs[c] is None else decs[c]) + 1e-12
                  for r, p, c in ((est, pub[0], "estimate"), (lo, pub[1], "ci_lower"), (hi, pub[2], "ci_upper"))
                  if not math.isnan(p)]
        ref = eb.references.get(row["citation_key"])
        out.append({"synthesis_id": sid, "principle": row["principle"], "question": row["question"],
                    "outcome_domain": row["outcome_domain"],
                    "source": short_cite(ref) if ref is not None else row["citation_key"],
                    "outcome": row["outcome"], "data": e.get("dataset") or e.get("file") or "",
                    "measure": e["measure"], "method": e["method"], "k": int(fit.k), "metric": row["metric"],
                    "published": pub[0], "published_lower": pub[1], "published_upper": pub[2],
                    "reproduced": est, "reproduced_lower": lo, "reproduced_upper": hi,
                    "difference": est - pub[0], "decimals": dec, "estimate_agrees": bool(checks[0]),
                    "agrees": bool(all(checks)),
                    "notes": " ".join(str(e.get("notes") or "").split())})
    cols = ["synthesis_id", "principle", "question", "outcome_domain", "source", "outcome", "data", "measure",
            "method", "k", "metric", "published", "published_lower", "published_upper", "reproduced",
            "reproduced_lower", "reproduced_upper", "difference", "decimals", "estimate_agrees", "agrees", "notes"]
    return pd.DataFrame(out, columns=cols)


def reproduction_forest(eb, synthesis_id: str, ax=None, **kwargs):
    """Forest plot (``ek.forest_plot``) of the study rows behind one reproduced estimate. For a
    Mantel-Haenszel reproduction the studies are drawn from the inverse-variance equal-effects fit
    of the same rows (a forest plot needs per-study variances; the MH pooled value is in
    :func:`reproductions`)."""
    data, e = study_rows(eb, synthesis_id)
    method = str(e["method"]).upper()
    slab = "study" if "study" in data.columns else None
    res = meta_analysis(data.dropna(subset=["yi", "vi"]), method="FE" if method == "MH" else method, slab=slab)
    return forest_plot(res, ax=ax, **kwargs)
