"""The evidence base: load and validate ``evidence/`` (principles, references, syntheses,
screening ledger, study-level datasets, gaps). See ``evidence/README.md`` for the schema."""

from __future__ import annotations

from evidence_kit.evidence._problems import EvidenceError, Problem
from evidence_kit.evidence._schema import METRICS, OUTCOME_DOMAINS, RATIO_METRICS
from evidence_kit.evidence.base import EvidenceBase, load_evidence

__all__ = ["METRICS", "OUTCOME_DOMAINS", "RATIO_METRICS", "EvidenceBase", "EvidenceError", "Problem",
           "load_evidence"]
