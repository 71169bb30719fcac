"""Infinite inputs are impossible input (issue 17): a ValueError naming the row and the column, as
for negative values. Before, an infinite SD gave SMD yi = 0 and an infinite n or count gave finite
answers. Also SMDH's sampling variance as metafor 4.6 and later compute it."""

from __future__ import annotations

import numpy as np
import pytest

import evidence_kit as ek

INF = np.inf
MEANS = dict(m1i=[1.0, 2.0], m2i=[0.5, 1.0], sd1i=[1.0, 1.2], sd2i=[1.1, 1.0], n1i=[20.0, 25.0],
             n2i=[22.0, 24.0])
TABLE = dict(ai=[4.0, 6.0], bi=[16.0, 14.0], ci=[8.0, 9.0], di=[12.0, 11.0])


def with_inf(columns, name, row=1):
    out = {k: list(v) for k, v in columns.items()}
    out[name][row] = INF
    return out


@pytest.mark.parametrize(("measure", "columns", "column"), [
    ("SMD", MEANS, "sd1i"),
    ("SMD", MEANS, "sd2i"),
    ("SMDH", MEANS, "sd2i"),
    ("MD", MEANS, "n1i"),
    ("MD", MEANS, "n2i"),
    ("ROM", MEANS, "m1i"),
    ("RD", TABLE, "ai"),
    ("RD", TABLE, "di"),
    ("OR", TABLE, "bi"),
    ("RR", TABLE, "ci"),
    ("COR", dict(ri=[0.3, 0.4], ni=[50.0, 60.0]), "ni"),
    ("ZCOR", dict(ri=[0.3, 0.4], ni=[50.0, 60.0]), "ni"),
    ("PR", dict(xi=[5.0, 6.0], ni=[50.0, 60.0]), "ni"),
    ("PFT", dict(xi=[5.0, 6.0], ni=[50.0, 60.0]), "ni"),
    ("PLO", dict(xi=[5.0, 6.0], ni=[50.0, 60.0]), "xi"),
    ("SMCR", dict(m1i=[5.0, 6.0], m2i=[4.0, 4.5], sd1i=[2.0, 2.5], ni=[30.0, 40.0], ri=[0.5, 0.6]), "sd1i"),
    ("PCOR", dict(ti=[2.0, 3.0], ni=[50.0, 60.0], mi=[3.0, 4.0]), "ni"),
])
def test_infinite_input_names_row_and_column(measure, columns, column):
    with pytest.raises(ValueError, match=rf"infinite value in column {column}: row 1 \({column}=inf\)"):
        ek.effect_sizes(measure=measure, **with_inf(columns, column))


def test_negative_infinity_and_data_frame_labels():
    import pandas as pd

    dat = pd.DataFrame(with_inf(MEANS, "m2i"), index=["Smith 2001", "Jones 2003"])
    dat.loc["Jones 2003", "m2i"] = -INF
    with pytest.raises(ValueError, match=r"infinite value in column m2i: row 'Jones 2003' \(m2i=-inf\)"):
        ek.effect_sizes(dat, "SMD", **{k: k for k in MEANS})


def test_missing_values_still_give_nan_rows():
    out = ek.effect_sizes(measure="SMD", **{**MEANS, "sd1i": [1.0, np.nan]})
    assert np.isnan(out["yi"].iloc[1]) and np.isfinite(out["yi"].iloc[0])


def test_smdh_variance_is_metafor_4_6():
    """metafor >= 4.6 expects vi 0.0132, 0.0674, 0.0515, 0.1961 for escalc(measure = "SMDH") on
    dat.normand1999 rows 1-4 (issue 13, from metafor's tests; metafor NEWS.md 4.6-0: the SMDH,
    SMD1H and SMCRH variances were 'slightly adjusted for consistency'); 3.8 gave 0.0131,
    0.0657, 0.0509, 0.1874 (KNOWN_DIVERGENCES["effects:normand_SMDH_LS"])."""
    dat = ek.load_dataset("dat.normand1999").iloc[:4]
    out = ek.effect_sizes(dat, "SMDH", m1i="m1i", sd1i="sd1i", n1i="n1i", m2i="m2i", sd2i="sd2i", n2i="n2i")
    np.testing.assert_array_equal(out["vi"].round(4), [0.0132, 0.0674, 0.0515, 0.1961])
    np.testing.assert_array_equal(out["yi"].round(4), [-0.3553, -0.3465, -2.3018, -1.8880])
