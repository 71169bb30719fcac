"""Private helpers for checking arguments: named choices, columns, impossible values.

Every public function checks its input through these, so errors read the same everywhere:
an unknown choice lists the valid ones; an impossible value names the row and the column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd


def check_choice(
    name: str,
    value: str,
    options: Sequence[str],
    *,
    aliases: Mapping[str, str] | None = None,
    case_sensitive: bool = False,
) -> str:
    """Return the canonical spelling of ``value`` among ``options``.

    >>> check_choice("measure", "smd", ["MD", "SMD"])
    'SMD'
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string; got {type(value).__name__}")
    aliases = dict(aliases or {})
    lookup = {}
    for opt in list(options) + list(aliases):
        key = opt if case_sensitive else opt.upper()
        lookup[key] = aliases.get(opt, opt)
    key = value if case_sensitive else value.upper()
    if key not in lookup:
        raise ValueError(f"unknown {name} {value!r}; expected one of {', '.join(options)}")
    return lookup[key]


def get_column(
    data: pd.DataFrame | None,
    value,
    name: str,
    *,
    n: int | None = None,
    dtype=float,
) -> np.ndarray:
    """Resolve a column argument: a column name of ``data`` or an array-like.

    Returns a 1-d numpy array (float by default; missing values become NaN). ``n`` checks the
    length against the other columns.
    """
    if isinstance(value, str):
        if data is None:
            raise ValueError(f"{name}={value!r} names a column but no data frame was given")
        if value not in data.columns:
            raise KeyError(f"{name}: column {value!r} not found in data (columns: {', '.join(map(str, data.columns))})")
        series = data[value]
    else:
        series = value
    if dtype is float:
        try:
            arr = pd.to_numeric(pd.Series(np.asarray(series, dtype=object).ravel()), errors="raise")
            arr = np.asarray(arr, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}: values must be numeric ({exc})") from None
    else:
        arr = np.asarray(series, dtype=dtype).ravel()
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} values but the other columns have {n}")
    return arr


def row_labels(data: pd.DataFrame | None, n: int) -> np.ndarray:
    """Labels used in messages: the data frame's index, or 0..n-1 positions."""
    if data is not None and len(data.index) == n:
        return np.asarray(data.index)
    return np.arange(n)


def check_rows(
    bad: np.ndarray,
    column: str,
    reason: str,
    values,
    labels: Iterable | None = None,
    *,
    limit: int = 5,
) -> None:
    """Raise ``ValueError`` naming the rows where ``bad`` is true: ``"vi must be positive: row 3
    (vi=0.0)"``. The one row check of the package (ARCHITECTURE.md).

    ``bad`` must already be False where a value is missing (NaN is allowed: it propagates). A
    scalar check names the argument (``"icc must lie in [0, 1]: icc=1.5"``); a 2-d check names
    each position as a tuple. Labels default to positions; values and labels print as plain
    Python values.
    """
    bad = np.asarray(bad, dtype=bool)
    if not bad.any():
        return
    if bad.ndim == 0:
        raise ValueError(f"{reason}: {column}={_plain(np.asarray(values).reshape(-1)[0])!r}")
    if bad.ndim > 1:
        values = np.broadcast_to(np.asarray(values), bad.shape)
        where = [tuple(int(j) for j in i) for i in np.argwhere(bad)]
        shown = ", ".join(f"row {w} ({column}={_plain(values[w])!r})" for w in where[:limit])
        more = f" and {len(where) - limit} more" if len(where) > limit else ""
        raise ValueError(f"{reason}: {shown}{more}")
    idx = np.flatnonzero(bad)
    labels = np.arange(bad.shape[0]) if labels is None else np.asarray(list(labels), dtype=object)
    values = np.broadcast_to(np.asarray(values, dtype=object), bad.shape)
    shown = ", ".join(f"row {_plain(labels[i])!r} ({column}={_plain(values[i])!r})" for i in idx[:limit])
    more = f" and {idx.size - limit} more" if idx.size > limit else ""
    raise ValueError(f"{reason}: {shown}{more}")


def _plain(value):
    """A numpy scalar as the Python value it holds, so messages read ``row 2``, not ``np.int64(2)``."""
    return value.item() if hasattr(value, "item") else value
