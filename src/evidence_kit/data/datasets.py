"""Real meta-analysis datasets shipped with evidence-kit: metadat 1.2-0 (GPL-2 or later) in
``data/metadat/`` and study-level data of published school-health reviews in ``data/reviews/``
(each with its licence and where every number was read).

``load_dataset("dat.bcg")`` returns the data as metafor users know it; ``dataset_info`` returns
its documentation (title, source, references) so a notebook can cite the original study.
"""

from __future__ import annotations

import re
from importlib import resources

import pandas as pd

_PACKAGE = "evidence_kit.data"


_FOLDERS = ("metadat", "reviews")


def _files() -> dict:
    """Dataset name -> its folder (a ``Traversable``), over every shipped folder."""
    out = {}
    for name in _FOLDERS:
        folder = resources.files(_PACKAGE).joinpath(name)
        if folder.is_dir():
            out.update({p.name[: -len(".csv")]: folder for p in folder.iterdir() if p.name.endswith(".csv")})
    return out


def _folder(name: str):
    return _files()[name]


def list_datasets() -> list[str]:
    """Names of the shipped datasets, e.g. ``['dat.aloe2013', 'dat.assink2016', ...]``."""
    return sorted(_files())


def _check(name: str) -> str:
    name = name if name.startswith("dat.") else f"dat.{name}"
    if name not in list_datasets():
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(list_datasets())}")
    return name


def load_dataset(name: str) -> pd.DataFrame:
    """Load a shipped metadat dataset as a DataFrame (``"dat.bcg"`` or ``"bcg"``)."""
    name = _check(name)
    with _folder(name).joinpath(f"{name}.csv").open("rb") as fh:
        return pd.read_csv(fh)


def dataset_info(name: str) -> dict[str, str]:
    """The dataset's documentation as a dict of sections: title, description, format, source, ...

    Section names are lower-cased headings of the ``.md`` file; ``source`` cites the original
    meta-analysis.
    """
    name = _check(name)
    text = _folder(name).joinpath(f"{name}.md").read_text(encoding="utf-8")
    sections: dict[str, str] = {"name": name}
    for match in re.finditer(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M):
        sections[match.group(1).strip().lower()] = match.group(2).strip()
    return sections
