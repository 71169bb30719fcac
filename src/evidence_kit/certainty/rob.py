"""Risk-of-bias assessments: RoB 2 (individually and cluster-randomized), ROBINS-I, a generic tool.

An assessment is a table with one row per study (and outcome, where judgements differ by
outcome), one column per domain, the overall judgement derived by the tool's published
algorithm, and, where a reviewer overrides that algorithm, the overall they chose and why.

Notes
-----
Overall-judgement algorithms implemented here:

* RoB 2: Sterne JAC, et al. RoB 2: a revised tool for assessing risk of bias in randomised
  trials. BMJ 2019;366:l4898, overall risk-of-bias judgement ("Low risk of bias: low risk for all domains; Some
  concerns: some concerns in at least one domain, but not at high risk in any domain; High risk:
  high risk in at least one domain, *or* some concerns for multiple domains in a way that
  substantially lowers confidence in the result"). The last clause is a reviewer's judgement,
  so the algorithm proposes "Some concerns" and the reviewer overrides to "High" with a reason.
* RoB 2 for cluster-randomized trials: Eldridge S, et al. (2021) RoB 2 CRT guidance adds
  domain 1b (bias arising from the timing of identification and recruitment of participants);
  the overall algorithm is RoB 2's.
* ROBINS-I: Sterne JAC, et al. ROBINS-I. BMJ 2016;355:i4919, overall judgement: Low if low in all
  domains; Moderate if low or moderate in all domains; Serious if serious in at least one domain
  but critical in none; Critical if critical in at least one domain; No information if there is
  no clear indication of serious or critical risk and information is missing in one or more
  domains.
* Generic (Cochrane RoB 1 labels, Higgins et al. BMJ 2011;343:d5928): the overall is the worst
  domain judgement (Low < Unclear < High).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evidence_kit._core.validate import check_choice

# Domains of each tool, in the order the tools publish them (short code, full name).
TOOL_DOMAINS: dict[str, tuple[tuple[str, str], ...]] = {
    "rob2": (
        ("D1", "Randomization process"),
        ("D2", "Deviations from intended interventions"),
        ("D3", "Missing outcome data"),
        ("D4", "Measurement of the outcome"),
        ("D5", "Selection of the reported result"),
    ),
    "rob2_cluster": (
        ("D1a", "Randomization process"),
        ("D1b", "Timing of identification or recruitment of participants"),
        ("D2", "Deviations from intended interventions"),
        ("D3", "Missing outcome data"),
        ("D4", "Measurement of the outcome"),
        ("D5", "Selection of the reported result"),
    ),
    "robins_i": (
        ("D1", "Confounding"),
        ("D2", "Selection of participants"),
        ("D3", "Classification of interventions"),
        ("D4", "Deviations from intended interventions"),
        ("D5", "Missing data"),
        ("D6", "Measurement of outcomes"),
        ("D7", "Selection of the reported result"),
    ),
}

# Judgement labels of each tool, from least to most concern (No information sits apart).
TOOL_LABELS: dict[str, tuple[str, ...]] = {
    "rob2": ("Low", "Some concerns", "High"),
    "rob2_cluster": ("Low", "Some concerns", "High"),
    "robins_i": ("Low", "Moderate", "Serious", "Critical", "No information"),
    "generic": ("Low", "Unclear", "High"),
}

_ALIASES: dict[str, dict[str, str]] = {
    "rob2": {"some": "Some concerns", "low risk": "Low", "high risk": "High"},
    "robins_i": {"ni": "No information", "no info": "No information"},
    "generic": {"low risk": "Low", "high risk": "High", "unclear risk": "Unclear"},
}
_ALIASES["rob2_cluster"] = _ALIASES["rob2"]

TOOLS = ("rob2", "rob2_cluster", "robins_i", "generic")
_TOOL_ALIASES = {"RoB2": "rob2", "RoB 2": "rob2", "ROBINS-I": "robins_i", "ROBINS_I": "robins_i",
                 "rob2_crt": "rob2_cluster", "RoB 2 CRT": "rob2_cluster"}

# Judgements GRADE counts as "high risk of bias" and as "some concerns", per tool.
HIGH_RISK = {"rob2": {"High"}, "rob2_cluster": {"High"}, "robins_i": {"Serious", "Critical"},
             "generic": {"High"}}
SOME_CONCERNS = {"rob2": {"Some concerns"}, "rob2_cluster": {"Some concerns"},
                 "robins_i": {"Moderate", "No information"}, "generic": {"Unclear"}}


def _canonical_tool(tool: str) -> str:
    return check_choice("risk-of-bias tool", tool, TOOLS, aliases=_TOOL_ALIASES)


def _normalize_labels(values: pd.Series, tool: str, column: str, studies: pd.Series) -> pd.Series:
    """Map labels case-insensitively onto the tool's spelling; unknown or missing labels raise."""
    labels = TOOL_LABELS[tool]
    lookup = {lab.lower(): lab for lab in labels}
    lookup.update(_ALIASES.get(tool, {}))
    text = values.astype("string").str.strip().str.lower()
    mapped = text.map(lookup)
    bad = mapped.isna()
    if bad.any():
        rows = [f"study {s!r} ({column}={v!r})" for s, v in zip(studies[bad], values[bad], strict=True)][:5]
        raise ValueError(
            f"unknown or missing {tool} judgement in column {column!r}: {', '.join(rows)}; "
            f"expected one of {', '.join(labels)}"
        )
    return mapped.astype(object)


def overall_judgement(domains: pd.DataFrame, tool: str) -> pd.Series:
    """The overall judgement per row by the tool's published algorithm (vectorized).

    ``domains`` holds canonical labels (see :data:`TOOL_LABELS`), one column per domain.
    See the module Notes for the algorithm each tool publishes.
    """
    tool = _canonical_tool(tool)
    values = domains.to_numpy(dtype=object)
    has = {lab: (values == lab).any(axis=1) for lab in TOOL_LABELS[tool]}
    out = np.empty(values.shape[0], dtype=object)
    if tool in ("rob2", "rob2_cluster"):
        # Sterne et al. 2019 (BMJ 366:l4898): overall risk-of-bias judgement.
        out[:] = "Low"
        out[has["Some concerns"]] = "Some concerns"
        out[has["High"]] = "High"
    elif tool == "robins_i":
        # Sterne et al. 2016 (BMJ 355:i4919), overall judgement: worst of Low < Moderate < Serious < Critical;
        # "No information" only when nothing is Serious or Critical.
        out[:] = "Low"
        out[has["Moderate"]] = "Moderate"
        out[has["No information"]] = "No information"
        out[has["Serious"]] = "Serious"
        out[has["Critical"]] = "Critical"
    else:
        # Generic tool: the worst domain (Higgins et al. 2011, BMJ 343:d5928).
        out[:] = "Low"
        out[has["Unclear"]] = "Unclear"
        out[has["High"]] = "High"
    return pd.Series(out, index=domains.index, name="overall_algorithm")


@dataclass(frozen=True)
class RobAssessment:
    """Risk-of-bias judgements of a set of studies with one tool.

    Attributes
    ----------
    tool : str
        ``"rob2"``, ``"rob2_cluster"``, ``"robins_i"`` or ``"generic"``.
    domains : tuple of str
        Domain codes (columns of ``table``), in the tool's order.
    domain_names : dict
        Code -> full domain name.
    table : DataFrame
        Columns ``study``, ``outcome`` (None where judgements do not differ by outcome), one
        column per domain, ``overall_algorithm`` (the tool's algorithm), ``overall`` (the
        judgement used: the algorithm's unless overridden) and ``override_reason``.
    """

    tool: str
    domains: tuple[str, ...]
    domain_names: dict
    table: pd.DataFrame

    @property
    def labels(self) -> tuple[str, ...]:
        return TOOL_LABELS[self.tool]

    def for_outcome(self, outcome: str | None) -> RobAssessment:
        """Rows that apply to ``outcome``: its own rows, else the study-level rows (outcome None)."""
        t = self.table
        if outcome is None:
            return self
        specific = t[t["outcome"] == outcome]
        general = t[t["outcome"].isna() & ~t["study"].isin(specific["study"])]
        sub = pd.concat([specific, general]).reset_index(drop=True)
        return RobAssessment(self.tool, self.domains, self.domain_names, sub)

    def subset(self, studies: Sequence[str]) -> RobAssessment:
        """The assessments of ``studies`` (in that order); an unknown study raises."""
        studies = list(studies)
        missing = [s for s in studies if s not in set(self.table["study"])]
        if missing:
            raise ValueError(f"no risk-of-bias assessment for studies: {', '.join(map(str, missing))}")
        order = {s: i for i, s in enumerate(studies)}
        sub = self.table[self.table["study"].isin(order)]
        sub = sub.iloc[np.argsort(sub["study"].map(order).to_numpy(), kind="stable")].reset_index(drop=True)
        return RobAssessment(self.tool, self.domains, self.domain_names, sub)

    def overall_by_study(self) -> pd.Series:
        """Overall judgement indexed by study (one row per study required)."""
        t = self.table
        dup = t["study"][t["study"].duplicated()]
        if len(dup):
            raise ValueError(
                "several assessments per study (one per outcome?); choose one with .for_outcome(): "
                + ", ".join(map(str, dup.unique()))
            )
        return pd.Series(t["overall"].to_numpy(), index=t["study"].to_numpy(), name="overall")

    def _repr_html_(self) -> str:
        head = f"Risk of bias ({self.tool}), {self.table['study'].nunique()} studies"
        return f"<p><b>{head}</b></p>" + self.table.to_html(index=False, escape=True, border=0)

    def __repr__(self) -> str:
        return f"RobAssessment(tool={self.tool!r}, studies={self.table['study'].nunique()})\n{self.table!r}"


def rob_assessment(
    data: pd.DataFrame,
    tool: str = "rob2",
    *,
    study: str = "study",
    outcome: str | None = None,
    domains: Sequence[str] | Mapping[str, str] | None = None,
    overall: str | None = None,
    override_reason: str | None = None,
    multiple_concerns_high: int | None = None,
) -> RobAssessment:
    """Build a risk-of-bias assessment from a table of domain judgements.

    Parameters
    ----------
    data : DataFrame
        One row per study (or per study and outcome).
    tool : {"rob2", "rob2_cluster", "robins_i", "generic"}
        The tool; its domains are columns ``D1``..``D5`` (RoB 2), ``D1a, D1b, D2``..``D5``
        (RoB 2 for cluster-randomized trials) or ``D1``..``D7`` (ROBINS-I).
    study, outcome : str
        Column names of the study label and (optionally) the outcome.
    domains : list or dict, optional
        For ``tool="generic"`` (required): the domain columns, or a mapping column -> full name.
        For the named tools, a mapping from the tool's codes to your column names if they differ.
    overall : str, optional
        Column with a reviewer's overall judgement. Where it differs from the algorithm, the
        ``override_reason`` column must give the reason; blank cells keep the algorithm's result.
    override_reason : str, optional
        Column with the reason for each override.
    multiple_concerns_high : int, optional
        RoB 2 only: a review protocol's rule that "Some concerns" in at least this many domains
        makes the overall "High" (RoB 2 lets reviewers judge High when some concerns in multiple
        domains substantially lower confidence). Applied as an override whose reason names the
        rule; a reviewer's own ``overall`` column still takes precedence.

    Returns
    -------
    RobAssessment

    Notes
    -----
    Labels are matched case-insensitively (RoB 2: Low, Some concerns, High; ROBINS-I: Low,
    Moderate, Serious, Critical, No information; generic: Low, Unclear, High). An unknown label,
    a missing domain column or a missing judgement raises ``ValueError`` naming the study and
    column: nothing is filled in silently. Algorithms: see the module docstring.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame with one row per study")
    tool = _canonical_tool(tool)
    if study not in data.columns:
        raise ValueError(f"study column {study!r} not found (columns: {', '.join(map(str, data.columns))})")
    if tool == "generic":
        if not domains:
            raise ValueError("the generic tool needs domains=[column, ...] naming its domain columns")
        names = dict(domains) if isinstance(domains, Mapping) else {d: d for d in domains}
        columns = {d: d for d in names}
    else:
        names = dict(TOOL_DOMAINS[tool])
        columns = {code: code for code in names}
        if domains is not None:
            if not isinstance(domains, Mapping):
                raise ValueError(f"for tool {tool!r}, domains must map the tool's codes ({', '.join(names)}) to columns")
            unknown = [c for c in domains if c not in names]
            if unknown:
                raise ValueError(f"unknown {tool} domain codes {unknown}; expected {', '.join(names)}")
            columns.update(domains)
    missing = [f"{code} (column {col!r})" for code, col in columns.items() if col not in data.columns]
    if missing:
        raise ValueError(f"{tool} assessment is missing domain columns: {', '.join(missing)}")
    studies = data[study].astype(object)
    if studies.isna().any():
        raise ValueError(f"study column {study!r} has missing labels at rows {list(np.flatnonzero(studies.isna()))}")
    table = pd.DataFrame({"study": studies.to_numpy()})
    table["outcome"] = data[outcome].astype(object).where(data[outcome].notna(), None).to_numpy() if outcome else None
    dup = table.duplicated(subset=["study", "outcome"])
    if dup.any():
        raise ValueError(f"duplicate assessments for studies: {', '.join(map(str, table['study'][dup].unique()))}")
    for code, col in columns.items():
        table[code] = _normalize_labels(data[col].reset_index(drop=True), tool, col, table["study"]).to_numpy()
    codes = tuple(columns)
    table["overall_algorithm"] = overall_judgement(table[list(codes)], tool).to_numpy()
    table["overall"] = table["overall_algorithm"]
    table["override_reason"] = None
    if multiple_concerns_high is not None:
        if tool not in ("rob2", "rob2_cluster"):
            raise ValueError("multiple_concerns_high applies to RoB 2 only")
        if int(multiple_concerns_high) != multiple_concerns_high or multiple_concerns_high < 2:
            raise ValueError("multiple_concerns_high must be a whole number of domains, at least 2")
        n_concerns = (table[list(codes)] == "Some concerns").sum(axis=1)
        rule = (table["overall_algorithm"] == "Some concerns") & (n_concerns >= multiple_concerns_high)
        table.loc[rule, "overall"] = "High"
        table.loc[rule, "override_reason"] = [
            f"protocol rule: some concerns in {c} domains (>= {multiple_concerns_high}) judged High (RoB 2)"
            for c in n_concerns[rule]]
    if overall is not None:
        chosen_raw = data[overall].reset_index(drop=True)
        given = chosen_raw.notna() & (chosen_raw.astype("string").str.strip() != "")
        chosen = _normalize_labels(chosen_raw[given], tool, overall, table["study"][given])
        reasons = (data[override_reason].reset_index(drop=True) if override_reason
                   else pd.Series([None] * len(table)))
        differs = pd.Series(False, index=table.index)
        differs[given] = chosen.to_numpy() != table.loc[given, "overall_algorithm"].to_numpy()
        no_reason = differs & (reasons.isna() | (reasons.astype("string").str.strip() == ""))
        if no_reason.any():
            rows = [f"study {s!r} ({table.loc[i, 'overall_algorithm']} -> {chosen[i]})"
                    for i, s in table["study"][no_reason].items()][:5]
            raise ValueError(
                f"overall judgement overridden without a reason (column {override_reason or 'override_reason'!r}): "
                + ", ".join(rows)
            )
        table.loc[given, "overall"] = chosen.to_numpy()
        table.loc[given & ~differs, "override_reason"] = None  # the reviewer restated the algorithm
        table.loc[differs, "override_reason"] = reasons[differs].to_numpy()
    return RobAssessment(tool, codes, names, table)


def _select(assessments: RobAssessment, studies: Sequence[str] | None, outcome: str | None) -> RobAssessment:
    if not isinstance(assessments, RobAssessment):
        raise TypeError("assessments must be a RobAssessment (see evidence_kit.rob_assessment)")
    sel = assessments.for_outcome(outcome) if outcome is not None else assessments
    if studies is not None:
        sel = sel.subset(studies)
    if sel.table.empty:
        raise ValueError("no studies to plot")
    return sel


def rob_summary_table(
    assessments: RobAssessment,
    *,
    weights: pd.Series | dict | None = None,
    studies: Sequence[str] | None = None,
    outcome: str | None = None,
    show_overall: bool = True,
) -> pd.DataFrame:
    """The numbers behind :func:`rob_summary_plot`: rows domains, columns judgements, shares in [0, 1]."""
    sel = _select(assessments, studies, outcome)
    t = sel.table
    if weights is not None and hasattr(weights, "weights") and hasattr(weights, "slab"):
        # a meta-analysis result: its percent weights by study label
        weights = pd.Series(np.asarray(weights.weights, dtype=float),
                            index=[str(s) for s in np.asarray(weights.slab, dtype=object)])
        t = t.assign(study=t["study"].astype(str))
    if weights is None:
        w = np.ones(len(t))
    else:
        w_series = pd.Series(weights, dtype=float)
        missing = [s for s in t["study"] if s not in w_series.index]
        if missing:
            raise ValueError(f"weights missing for studies: {', '.join(map(str, missing))}")
        w = w_series.reindex(t["study"]).to_numpy()
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            raise ValueError(f"weights must be finite and non-negative: studies {list(t['study'][bad])}")
        if w.sum() <= 0:
            raise ValueError("weights sum to zero")
    cols = list(sel.domains) + (["overall"] if show_overall else [])
    index = [f"{c}: {sel.domain_names.get(c, c)}" for c in sel.domains] + (["Overall"] if show_overall else [])
    values = t[cols].to_numpy(dtype=object)
    # share[d, j] = sum_i w_i [J_id = j] / sum_i w_i (robvis rob_summary, weighted)
    shares = np.stack([(w[:, None] * (values == lab)).sum(axis=0) / w.sum() for lab in sel.labels], axis=1)
    return pd.DataFrame(shares, index=index, columns=list(sel.labels))
