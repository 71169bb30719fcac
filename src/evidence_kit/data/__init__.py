"""Datasets shipped with evidence-kit: the metadat datasets (GPL-2-or-later, Viechtbauer and
contributors) and study-level data of published reviews, each with its documentation."""

from evidence_kit.data.datasets import dataset_info, list_datasets, load_dataset

__all__ = ["dataset_info", "list_datasets", "load_dataset"]
