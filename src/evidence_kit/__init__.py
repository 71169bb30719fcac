"""evidence-kit: reproducible evidence reviews for the Ten-Year Roadmap for Healthy Schools.

``import evidence_kit as ek``. The public names below are the contract in DESIGN.md.
"""

from __future__ import annotations

__version__ = "0.1.0"

from evidence_kit.datasets import dataset_info, list_datasets, load_dataset

__all__: list[str] = ["__version__", "dataset_info", "list_datasets", "load_dataset"]

# --- effect sizes and conversions (effects.py, conversions.py, quality.py) ---

# --- synthesis (synthesis/, plots.py) ---

# --- bias, multilevel, robust (bias.py, multilevel.py, robust.py) ---

# --- citations (citations/) ---

# --- certainty (certainty/) ---

# --- evidence base (evidence.py) and report ---
