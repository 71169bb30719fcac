"""effect_sizes on bad input: missing -> NaN (row kept), impossible -> ValueError naming row and column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import evidence_kit as ek


def _means(**changes):
    data = pd.DataFrame(
        {"m1i": [10.0, 11.0, 12.0], "m2i": [9.0, 9.5, 10.0], "sd1i": [2.0, 2.5, 3.0],
         "sd2i": [2.0, 2.0, 2.0], "n1i": [20.0, 25.0, 30.0], "n2i": [20.0, 22.0, 28.0]},
        index=["Aro", "Bel", "Cas"],
    )
    for col, (row, value) in changes.items():
        data.loc[row, col] = value
    return data


MEANS = dict(m1i="m1i", m2i="m2i", sd1i="sd1i", sd2i="sd2i", n1i="n1i", n2i="n2i")
TABLE = dict(ai="ai", bi="bi", ci="ci", di="di")


def _table(**changes):
    data = pd.DataFrame({"ai": [4.0, 6.0, 3.0], "bi": [119.0, 300.0, 228.0],
                         "ci": [11.0, 29.0, 11.0], "di": [128.0, 274.0, 209.0]})
    for col, (row, value) in changes.items():
        data.loc[row, col] = value
    return data


def test_unknown_measure_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown measure 'SMX'; expected one of MD, SMD, SMDH, ROM"):
        ek.effect_sizes(_means(), "SMX", **MEANS)


def test_unknown_vtype_and_to_list_the_valid_ones():
    with pytest.raises(ValueError, match="expected one of LS, UB, LS2, AV"):
        ek.effect_sizes(_means(), "SMD", vtype="XX", **MEANS)
    with pytest.raises(ValueError, match="vtype for measure OR 'UB'; expected one of LS"):
        ek.effect_sizes(_table(), "OR", vtype="UB", **TABLE)
    with pytest.raises(ValueError, match="expected one of only0, all, if0all, none"):
        ek.effect_sizes(_table(), "OR", to="some", **TABLE)


def test_missing_and_unexpected_column_arguments():
    with pytest.raises(ValueError, match="missing: sd2i"):
        ek.effect_sizes(_means(), "SMD", m1i="m1i", m2i="m2i", sd1i="sd1i", n1i="n1i", n2i="n2i")
    with pytest.raises(TypeError, match="unexpected xi"):
        ek.effect_sizes(_means(), "SMD", xi="m1i", **MEANS)
    with pytest.raises(KeyError, match="column 'sd_1' not found"):
        ek.effect_sizes(_means(), "SMD", **{**MEANS, "sd1i": "sd_1"})
    with pytest.raises(ValueError, match="needs bi or n1i"):
        ek.effect_sizes(_table(), "OR", ai="ai", ci="ci", di="di")


@pytest.mark.parametrize("column", ["m1i", "sd2i", "n1i"])
def test_missing_value_gives_nan_row_kept(column):
    out = ek.effect_sizes(_means(**{column: ("Bel", np.nan)}), "SMD", **MEANS)
    assert list(out.index) == ["Aro", "Bel", "Cas"]
    assert np.isnan(out.loc["Bel", "yi"]) and np.isnan(out.loc["Bel", "vi"])
    assert np.isfinite(out.loc[["Aro", "Cas"], ["yi", "vi"]].to_numpy()).all()


def test_missing_mean_blanks_vi_too():
    """Documented difference: metafor keeps vi for MD when only a mean is missing; we blank both."""
    out = ek.effect_sizes(_means(m1i=("Aro", np.nan)), "MD", **MEANS)
    assert np.isnan(out.loc["Aro", "yi"]) and np.isnan(out.loc["Aro", "vi"])


def test_missing_count_gives_nan():
    out = ek.effect_sizes(_table(ci=(1, np.nan)), "OR", **TABLE)
    assert np.isnan(out["yi"].iloc[1]) and np.isnan(out["vi"].iloc[1])
    assert len(out) == 3


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("sd1i", -1.0, r"negative standard deviation in column sd1i: row 'Cas' \(sd1i=-1.0\)"),
        ("sd2i", -0.5, r"negative standard deviation in column sd2i: row 'Cas'"),
        ("n1i", 0.0, r"sample size below 1 in column n1i: row 'Cas' \(n1i=0.0\)"),
        ("n2i", -3.0, r"sample size below 1 in column n2i: row 'Cas'"),
    ],
)
def test_impossible_means_name_row_and_column(column, value, message):
    with pytest.raises(ValueError, match=message):
        ek.effect_sizes(_means(**{column: ("Cas", value)}), "SMD", **MEANS)


def test_impossible_counts_name_row_and_column():
    with pytest.raises(ValueError, match=r"negative count in column bi: row 2 \(bi=-1.0\)"):
        ek.effect_sizes(_table(bi=(2, -1.0)), "RR", **TABLE)
    data = pd.DataFrame({"ai": [5.0, 12.0], "n1i": [10.0, 10.0], "ci": [1.0, 2.0], "n2i": [10.0, 10.0]})
    with pytest.raises(ValueError, match=r"more events in column ai than n1i: row 1 \(ai=12.0\)"):
        ek.effect_sizes(data, "OR", ai="ai", n1i="n1i", ci="ci", n2i="n2i")
    data = pd.DataFrame({"ai": [5.0], "bi": [5.0], "n1i": [11.0], "ci": [1.0], "di": [9.0]})
    with pytest.raises(ValueError, match="n1i is not ai \\+ bi: row 0"):
        ek.effect_sizes(data, "OR", ai="ai", bi="bi", n1i="n1i", ci="ci", di="di")
    data = pd.DataFrame({"ai": [0.0], "bi": [0.0], "ci": [1.0], "di": [9.0]})
    with pytest.raises(ValueError, match="group size ai \\+ bi below 1: row 0"):
        ek.effect_sizes(data, "OR", **TABLE)


def test_impossible_correlations_and_proportions():
    with pytest.raises(ValueError, match=r"correlation outside \[-1, 1\] in column ri: row 1 \(ri=1.2\)"):
        ek.effect_sizes(measure="ZCOR", ri=[0.3, 1.2], ni=[50, 60])
    with pytest.raises(ValueError, match=r"sample size below 1 in column ni: row 0"):
        ek.effect_sizes(measure="COR", ri=[0.3, 0.2], ni=[0, 60])
    with pytest.raises(ValueError, match=r"more events in column xi than ni: row 1 \(xi=61.0\)"):
        ek.effect_sizes(measure="PLO", xi=[3, 61], ni=[50, 60])
    with pytest.raises(ValueError, match=r"negative count in column xi: row 0"):
        ek.effect_sizes(measure="PR", xi=[-3, 6], ni=[50, 60])
    with pytest.raises(ValueError, match=r"correlation outside \[-1, 1\] in column ri: row 0"):
        ek.effect_sizes(measure="SMCR", m1i=[1.0], m2i=[0.5], sd1i=[1.0], ni=[20], ri=[-1.5])


def test_many_bad_rows_are_counted():
    with pytest.raises(ValueError, match="and 2 more"):
        ek.effect_sizes(measure="COR", ri=[2.0] * 7, ni=[10] * 7)


def test_cases_metafor_gives_na():
    # UCOR needs ni > 4; correlations have no variance for ni <= 3 (yi kept, as metafor)
    out = ek.effect_sizes(measure="UCOR", ri=[0.3, 0.3], ni=[4, 5])
    assert np.isnan(out["yi"][0]) and np.isfinite(out["yi"][1])
    out = ek.effect_sizes(measure="COR", ri=[0.3], ni=[3])
    assert out["yi"][0] == 0.3 and np.isnan(out["vi"][0])
    # log ratio of means with means of opposite sign is undefined
    out = ek.effect_sizes(measure="ROM", m1i=[-1.0], m2i=[2.0], sd1i=[1.0], sd2i=[1.0], n1i=[10], n2i=[10])
    assert np.isnan(out["yi"][0]) and np.isnan(out["vi"][0])
    # with to="none" a zero cell gives an infinite log OR: NaN, as metafor's NA
    out = ek.effect_sizes(measure="OR", ai=[0], bi=[10], ci=[3], di=[7], to="none")
    assert np.isnan(out["yi"][0]) and np.isnan(out["vi"][0])


def test_non_numeric_column_is_an_error():
    data = _means()
    data["n1i"] = ["20", "twenty-five", "30"]
    with pytest.raises(ValueError, match="n1i: values must be numeric"):
        ek.effect_sizes(data, "SMD", **MEANS)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="ni has 3 values but the other columns have 2"):
        ek.effect_sizes(measure="COR", ri=np.array([0.1, 0.2]), ni=np.array([10, 20, 30]))


def test_missing_complement_is_filled_from_the_total():
    """metafor: bi <- replmiss(bi, n1i - ai), mi <- replmiss(mi, ni - xi)."""
    full = ek.effect_sizes(measure="PLO", xi=[3, 5], ni=[20, 30])
    filled = ek.effect_sizes(measure="PLO", xi=[3, 5], mi=[17, np.nan], ni=[20, 30])
    pd.testing.assert_frame_equal(full, filled)
    with pytest.raises(ValueError, match=r"ni is not xi \+ mi: row 0 \(ni=21.0\)"):
        ek.effect_sizes(measure="PLO", xi=[3, 5], mi=[17, np.nan], ni=[21, 30])


def test_scalar_columns_apply_to_every_row():
    out = ek.effect_sizes(measure="ZCOR", ri=[0.1, 0.2, 0.3], ni=50)
    np.testing.assert_allclose(out["vi"], 1 / 47)


_counts = st.one_of(st.integers(min_value=0, max_value=60).map(float), st.just(np.nan))


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(_counts, _counts, _counts, _counts), min_size=1, max_size=8),
       measure=st.sampled_from(["OR", "RR", "RD", "PETO"]),
       to=st.sampled_from(["only0", "all", "if0all", "none"]))
def test_fuzz_tables_keep_rows_and_never_raise_on_valid_counts(rows, measure, to):
    """Any non-negative counts (with gaps) give one output row per input row; a row with a
    missing cell is NaN in both; finite results have a non-negative variance (RD of two 0/n
    groups without correction has variance 0, as metafor)."""
    cells = np.array(rows, dtype=float)
    empty = (cells[:, 0] + cells[:, 1] < 1) | (cells[:, 2] + cells[:, 3] < 1)
    data = pd.DataFrame(cells, columns=["ai", "bi", "ci", "di"], index=[f"s{i}" for i in range(len(rows))])
    if empty.any():  # a group of size 0 is impossible input
        with pytest.raises(ValueError, match="below 1"):
            ek.effect_sizes(data, measure, to=to, **TABLE)
        return
    out = ek.effect_sizes(data, measure, to=to, **TABLE)
    assert out.index.equals(data.index)
    gaps = np.isnan(cells).any(axis=1)
    assert out.loc[gaps, ["yi", "vi"]].isna().all().all()
    finite = np.isfinite(out["yi"].to_numpy())
    assert (out["vi"].to_numpy()[finite] >= 0).all()
    assert np.isnan(out["yi"].to_numpy()).tolist() == np.isnan(out["vi"].to_numpy()).tolist()


def test_impossible_partial_correlation_input():
    with pytest.raises(ValueError, match=r"no residual degrees of freedom .* row 1 \(mi=9.0\)"):
        ek.effect_sizes(measure="PCOR", ti=[2.0, 2.0], ni=[30, 10], mi=[3, 9])
    with pytest.raises(ValueError, match=r"negative number of predictors in column mi: row 0"):
        ek.effect_sizes(measure="ZPCOR", ti=[2.0], ni=[30], mi=[-1])
    with pytest.raises(ValueError, match=r"R\^2 outside \[0, 1\] in column r2i: row 0"):
        ek.effect_sizes(measure="SPCOR", ti=[2.0], ni=[30], mi=[3], r2i=[1.2])
    with pytest.raises(ValueError, match="missing: r2i"):
        ek.effect_sizes(measure="SPCOR", ti=[2.0], ni=[30], mi=[3])


def test_di_ti_only_for_smd():
    with pytest.raises(ValueError, match="di and ti are for measure SMD only, not MD"):
        ek.effect_sizes(measure="MD", ti=[2.0], n1i=[10], n2i=[10])
    with pytest.raises(ValueError, match="missing: n2i"):
        ek.effect_sizes(measure="SMD", ti=[2.0], n1i=[10])
    # a row with neither d, t nor means is missing: NaN, row kept
    out = ek.effect_sizes(measure="SMD", ti=[2.0, np.nan], n1i=[10, 12], n2i=[10, 12])
    assert np.isfinite(out["yi"][0]) and np.isnan(out["yi"][1]) and np.isnan(out["vi"][1])
