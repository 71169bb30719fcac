"""check_extraction: statcheck-style p recomputation, GRIM, CI vs SE, implausible SMDs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import evidence_kit as ek
from evidence_kit.effects.extraction import FLAG_COLUMNS


def _checks(flags: pd.DataFrame) -> dict:
    return {(row, check) for row, check in zip(flags["row"], flags["check"], strict=True)}


REPORTS = pd.DataFrame(
    {
        "test": ["t", "t", "F", "r", "chi2", "z", "t", "t", "F"],
        "stat": ["2.20", "2.20", "4.20", ".30", "3.84", "1.96", "1.50", "2.00", "12.5"],
        "df1": [28, 28, 1, 48, 1, np.nan, 10, 20, 2],
        "df2": [np.nan, np.nan, 30, np.nan, np.nan, np.nan, np.nan, np.nan, 60],
        "p": [".036", ".060", ".049", ".03", ".050", "< .05", "< .05", ".250", "< .001"],
    },
    index=["ok_t", "bad_t", "ok_F", "ok_r", "ok_chi2", "ok_z", "bad_less", "bad_t2", "ok_F2"],
)
P_ARGS = dict(test="test", statistic="stat", df1="df1", df2="df2", p="p")


def test_recomputed_p_values_are_right():
    """The reference p-values, computed here with scipy independently of quality.py."""
    assert 2 * stats.t.sf(2.20, 28) == pytest.approx(0.0362, abs=5e-5)
    assert stats.f.sf(4.20, 1, 30) == pytest.approx(0.0493, abs=5e-5)
    t = 0.30 * np.sqrt(48 / (1 - 0.09))
    assert 2 * stats.t.sf(t, 48) == pytest.approx(0.0343, abs=5e-5)
    assert stats.chi2.sf(3.84, 1) == pytest.approx(0.0500, abs=5e-5)
    assert 2 * stats.t.sf(1.50, 10) == pytest.approx(0.1645, abs=5e-5)


def test_p_checks_flag_exactly_the_inconsistent_rows():
    flags = ek.check_extraction(REPORTS, **P_ARGS)
    assert list(flags.columns) == FLAG_COLUMNS
    assert _checks(flags) == {
        ("bad_t", "p_decision_error"),  # p = .036 reported as .060: significant becomes not
        ("bad_less", "p_decision_error"),  # t(10) = 1.50 gives .16, reported < .05
        ("bad_t2", "p_inconsistent"),  # t(20) = 2.00 gives .059; .250 is far off but both n.s.
    }
    reason = flags.set_index("row").loc["bad_t", "reason"]
    assert "t(28) = 2.2 gives p = 0.03623" in reason and "reported p = 0.06" in reason
    assert (flags["column"] == "p").all()


def test_rounding_of_the_statistic_is_allowed_for():
    """t(28) = 2.2 (one decimal) stands for 2.15..2.25, i.e. p in [.032, .040]: .04 is fine,
    but with two decimals (2.20: p in [.0357, .0367]) .04 is not."""
    one = pd.DataFrame({"test": ["t"], "stat": ["2.2"], "df1": [28], "p": [".040"]})
    assert ek.check_extraction(one, test="test", statistic="stat", df1="df1", p="p").empty
    two = one.assign(stat=["2.20"])
    flags = ek.check_extraction(two, test="test", statistic="stat", df1="df1", p="p")
    assert list(flags["check"]) == ["p_inconsistent"]


def test_decimals_of_numeric_columns_come_from_the_values():
    """A float 2.2 counts as one decimal (2.15..2.25: p in [.0325, .0403]), so p = .039 is within
    rounding; 2.21 has two decimals (p in [.0351, .0358]) and .039 (.0385..0.0395) is not."""
    data = pd.DataFrame({"stat": [2.2, 2.21], "df": [28.0, 28.0], "p": [0.039, 0.039]})
    flags = ek.check_extraction(data, test="t", statistic="stat", df1="df", p="p")
    assert _checks(flags) == {(1, "p_inconsistent")}


def test_test_type_for_all_rows_and_numeric_columns():
    data = pd.DataFrame({"tval": [2.2, 2.2], "df": [28, 28], "p": [0.036, 0.36]})
    flags = ek.check_extraction(data, test="t", statistic="tval", df1="df", p="p")
    assert _checks(flags) == {(1, "p_decision_error")}


def test_impossible_reported_values_are_flagged_not_raised():
    data = pd.DataFrame({"test": ["t", "r", "t", "chi2"], "stat": [2.0, 1.3, 2.0, 3.0],
                         "df1": [10, 20, 0, 1], "p": [1.5, 0.2, 0.07, 0.08]})
    flags = ek.check_extraction(data, test="test", statistic="stat", df1="df1", p="p")
    assert _checks(flags) == {(0, "impossible_value"), (1, "impossible_value"), (2, "impossible_value")}
    assert set(flags["column"]) == {"p", "stat", "df1"}


def test_unknown_test_type_is_flagged():
    data = pd.DataFrame({"test": ["q"], "stat": [2.0], "df1": [10], "p": [0.07]})
    flags = ek.check_extraction(data, test="test", statistic="stat", df1="df1", p="p")
    assert list(flags["check"]) == ["impossible_value"]
    assert "unknown test type 'q'" in flags["reason"][0]


def test_grim():
    """The GRIM test (Brown & Heathers 2017) on constructed numbers: with n = 28 integer
    responses the attainable means near 5.19 are 145/28 = 5.1786 and 146/28 = 5.2143, so 5.19
    is impossible and 5.18 is fine; with n k >= 100 every two-decimal mean is attainable."""
    data = pd.DataFrame({"m": ["5.19", "5.18", "3.50", "2.47", "3.48"], "n": [28, 28, 10, 200, 15]},
                        index=["A", "B", "C", "D", "E"])
    flags = ek.check_extraction(data, grim=[("m", "n")])
    assert _checks(flags) == {("A", "grim"), ("E", "grim")}  # 3.48: 52/15 = 3.4667, 53/15 = 3.5333
    assert "no integer total" in flags["reason"][0]
    # three items per respondent: totals are integers out of n * 3
    items = ek.check_extraction(pd.DataFrame({"m": ["2.10"], "n": [10]}), grim=[("m", "n")], grim_items=3)
    assert items.empty  # 63 / 30 = 2.10
    items = ek.check_extraction(pd.DataFrame({"m": ["2.12"], "n": [10]}), grim=[("m", "n")], grim_items=3)
    assert list(items["check"]) == ["grim"]


def test_ci_checks():
    data = pd.DataFrame(
        {"yi": ["0.50", "0.50", "0.20", "1.20", "0.40"],
         "se": ["0.10", "0.30", "0.10", "0.10", "0.10"],
         "lo": ["0.30", "0.30", "0.60", "1.00", "0.30"],
         "hi": ["0.70", "0.70", "0.90", "1.40", "0.70"]},
        index=["ok", "se_wrong", "outside", "ok2", "asym"],
    )
    flags = ek.check_extraction(data, estimate="yi", se="se", ci_lower="lo", ci_upper="hi")
    assert _checks(flags) == {
        ("se_wrong", "ci_se_mismatch"),
        ("outside", "estimate_outside_ci"),
        ("outside", "ci_se_mismatch"),  # [0.60, 0.90] implies SE 0.077, reported 0.10
        ("asym", "ci_asymmetric"),
    }


def test_ci_checks_on_the_ratio_scale():
    """OR 0.50 (95% CI 0.25 to 1.00): SE of ln OR = ln 4 / 3.92 = 0.354, symmetric on the log scale."""
    data = pd.DataFrame({"or": ["0.50", "0.50"], "se": ["0.354", "0.250"], "lo": ["0.25", "0.25"], "hi": ["1.00", "1.00"]})
    flags = ek.check_extraction(data, estimate="or", se="se", ci_lower="lo", ci_upper="hi", ci_log=True)
    assert _checks(flags) == {(1, "ci_se_mismatch")}
    linear = ek.check_extraction(data.iloc[:1], estimate="or", ci_lower="lo", ci_upper="hi")
    assert list(linear["check"]) == ["ci_asymmetric"]


def test_smd_checks():
    data = pd.DataFrame({"m1": [10, 10, 10], "m2": [8, 5, 8], "s1": [2, 0.3, 0.5], "s2": [2, 0.3, 0.5],
                         "n1": [30, 30, 30], "n2": [30, 30, 30]}, index=["fine", "huge", "se_as_sd"])
    flags = ek.check_extraction(data, m1i="m1", m2i="m2", sd1i="s1", sd2i="s2", n1i="n1", n2i="n2")
    assert _checks(flags) == {("huge", "smd_implausible"), ("se_as_sd", "sd_may_be_se")}
    # d = 4 from SD 0.5; with SD = 0.5 sqrt(30) = 2.74 it is 0.73
    assert "d = 0.73" in flags.set_index("row").loc["se_as_sd", "reason"]
    relaxed = ek.check_extraction(data, m1i="m1", m2i="m2", sd1i="s1", sd2i="s2", n1i="n1", n2i="n2",
                                  smd_limit=20)
    assert relaxed.empty


def test_all_checks_together_sorted_by_row():
    data = REPORTS.copy()
    data["m"] = "5.19"
    data["n"] = 28
    flags = ek.check_extraction(data, grim=[("m", "n")], **P_ARGS)
    assert flags["row"].tolist()[:2] == ["ok_t", "bad_t"]
    assert len(flags) == len(data) + 3


def test_nothing_to_flag_gives_empty_frame_with_columns():
    out = ek.check_extraction(pd.DataFrame({"a": [1]}))
    assert out.empty and list(out.columns) == FLAG_COLUMNS


def test_incomplete_arguments_are_errors():
    with pytest.raises(ValueError, match="needs test, statistic and p"):
        ek.check_extraction(REPORTS, statistic="stat", p="p")
    with pytest.raises(ValueError, match="needs both ci_lower and ci_upper"):
        ek.check_extraction(REPORTS, ci_lower="stat")
    with pytest.raises(ValueError, match="SMD check needs"):
        ek.check_extraction(REPORTS, m1i="stat")
