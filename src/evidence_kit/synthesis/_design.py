"""Private input handling for the synthesis engine: numeric columns, row-naming errors, and the
design matrix of a meta-regression (continuous moderators as they are, categorical ones
dummy-coded against their first sorted level, as R's treatment contrasts).
"""

from __future__ import annotations

import re

import formulaic
import numpy as np
import pandas as pd

from evidence_kit._core.validate import check_rows, get_column


def numeric_column(data, value, name: str, *, n: int | None = None) -> np.ndarray:
    """``get_column`` with a fast path for columns that are already numeric (no object round trip)."""
    series = data[value] if isinstance(value, str) and data is not None and value in data.columns else value
    if isinstance(series, (pd.Series, np.ndarray)) and series.dtype.kind in "fiu" and np.ndim(series) == 1:
        arr = np.asarray(series, dtype=float)
        if n is not None and arr.shape[0] != n:
            raise ValueError(f"{name} has {arr.shape[0]} values but the other columns have {n}")
        return arr
    return get_column(data, value, name, n=n)


def design_matrix(data: pd.DataFrame | None, mods, n: int):
    """Build X (with intercept), term names and the coding from ``mods``.

    ``mods``: a list of column names (numeric columns enter as they are; text, categorical and
    boolean columns are dummy-coded against their first sorted level, named as R does, e.g.
    ``allocrandom``), a formula string such as ``"~ ablat + C(alloc)"`` or ``"~ ablat * alloc"``
    (see :func:`formula_matrix`), or a 2-d array / DataFrame of moderator values (without
    intercept).
    """
    if mods is None:
        return None, ["intercept"], ()
    if isinstance(mods, str) and mods.lstrip().startswith("~"):
        return formula_matrix(data, mods, n)
    if isinstance(mods, str):
        mods = [mods]
    if isinstance(mods, pd.DataFrame):
        data, mods = mods, list(mods.columns)
    elif not isinstance(mods, (list, tuple)):
        arr = np.asarray(mods, dtype=float)
        arr = arr[:, None] if arr.ndim == 1 else arr
        if arr.shape[0] != n:
            raise ValueError(f"mods has {arr.shape[0]} rows but yi has {n} values")
        names = ["intercept"] + [f"x{j}" for j in range(1, arr.shape[1] + 1)]
        return np.column_stack([np.ones(n), arr]), names, tuple((nm, None) for nm in names[1:])
    cols, names, coding = [np.ones(n)], ["intercept"], []
    for name in mods:
        if data is None or name not in data.columns:
            raise KeyError(f"mods: column {name!r} not found in data")
        s = data[name]
        if len(s) != n:
            raise ValueError(f"mods column {name!r} has {len(s)} values but yi has {n}")
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            cols.append(s.to_numpy(dtype=float))
            names.append(str(name))
            coding.append((name, None))
        else:
            values = s.to_numpy(dtype=object)
            present = pd.notna(values)
            levels = sorted(set(values[present]), key=str)
            for lev in levels[1:]:
                col = (values == lev).astype(float)
                col[~present] = np.nan
                cols.append(col)
                names.append(f"{name}{lev}")
            coding.append((name, levels))
    return np.column_stack(cols), names, tuple(coding)


_NAME_RULES = [
    (re.compile(r"C\(([^,()]+)\)\[(?:T\.)?(.+?)\]"), r"\1\2"),  # C(alloc)[T.random] -> allocrandom
    (re.compile(r"([\w.]+)\[(?:T\.)?(.+?)\]"), r"\1\2"),  # alloc[T.random] -> allocrandom
    (re.compile(r"(\))\[(?:T\.)?(.+?)\]"), r"\1\2"),  # poly(year, 2)[1] -> poly(year, 2)1
]


def full_rank_design(data: pd.DataFrame | None, mods, k: int, labels):
    """The design matrix of a model with random effects: intercept-only when ``mods`` is None,
    no missing moderator value, full column rank and fewer coefficients than effects.

    Returns (X, terms, coding) as :func:`design_matrix`, with X never None.
    """
    X, terms, coding = design_matrix(data, mods, k)
    X = np.ones((k, 1)) if X is None else X
    bad = np.isnan(X).any(axis=1)
    check_rows(bad, "mods", "missing moderator values (drop these rows first)", np.where(bad, np.nan, 0.0), labels)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError(f"moderators are collinear: the design matrix ({', '.join(terms)}) "
                         "is not of full column rank")
    if k <= X.shape[1]:
        raise ValueError(f"too few effects (k = {k}) for {X.shape[1]} coefficients")
    return X, terms, coding


def r_name(name: str) -> str:
    """A formulaic column name as R's model.matrix (and so metafor) prints it."""
    if name == "Intercept":
        return "intercept"
    for pattern, repl in _NAME_RULES:
        name = pattern.sub(repl, name)
    return name


def formula_matrix(data: pd.DataFrame | None, formula: str, n: int):
    """X, R-style term names and the coding ``(("~", model_spec),)`` from a one-sided formula.

    Uses formulaic (Wilkinson notation as in R: ``a + b``, ``a:b``, ``a * b``, ``C(a)``,
    ``- 1`` or ``+ 0`` for no intercept, ``I(x ** 2)``, functions of columns). Text and
    categorical columns use treatment contrasts against the first sorted level, as R's default.
    Rows with missing values are kept as NaN (the model reports them by row).
    """
    if data is None:
        raise ValueError("mods: a formula needs data")
    if len(data) != n:
        raise ValueError(f"mods: data has {len(data)} rows but yi has {n} values")
    try:
        mm = formulaic.model_matrix(formula, data, na_action="ignore")
    except Exception as exc:  # formulaic raises several types; one message names the formula
        raise ValueError(f"mods: cannot build the design matrix of {formula!r}: {exc}") from None
    names = [r_name(str(c)) for c in mm.columns]
    X = np.asarray(mm, dtype=float)
    if X.shape[0] != n:
        raise ValueError(f"mods: the formula gave {X.shape[0]} rows for {n} effects")
    return X, names, (("~", mm.model_spec),)


def has_intercept(term_names) -> bool:
    return len(term_names) > 0 and term_names[0] == "intercept"


def newmods_matrix(result, newmods) -> np.ndarray:
    """Design rows for ``MetaResult.predict(newmods)``: an intercept column is added when missing;
    a DataFrame is coded with the model's ``design`` (categorical levels as when fitting)."""
    if isinstance(newmods, pd.DataFrame) and result.design and result.design[0][0] == "~":
        mm = result.design[0][1].get_model_matrix(newmods, na_action="ignore")
        return np.asarray(mm, dtype=float)
    if isinstance(newmods, pd.DataFrame) and result.design:
        cols = [np.ones(len(newmods))]
        for name, levels in result.design:
            if levels is None:
                cols.append(get_column(newmods, name, name))
            else:
                values = newmods[name].to_numpy()
                unknown = ~pd.Series(values).isin(levels).to_numpy()
                check_rows(unknown, name, f"levels not seen when fitting (known: {', '.join(map(str, levels))})",
                           values)
                cols.extend((values == lev).astype(float) for lev in levels[1:])
        return np.column_stack(cols)
    Xn = np.atleast_2d(np.asarray(newmods, dtype=float))
    if result.p - 1 == 1 and Xn.shape[0] == 1 and Xn.shape[1] != 1:
        Xn = Xn.T
    if Xn.shape[1] == result.p - 1:
        Xn = np.column_stack([np.ones(Xn.shape[0]), Xn])
    if Xn.shape[1] != result.p:
        raise ValueError(f"newmods has {Xn.shape[1]} columns; the model has {result.p - 1} moderators")
    return Xn
