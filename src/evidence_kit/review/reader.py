"""Tables made for reading: DataFrames rendered the way a school leader reads a page.

:func:`reader_table` turns a DataFrame into a :class:`ReaderTable` that shows as HTML in Jupyter
and on the rendered site (``_repr_html_``) and as plain text in a terminal (``__repr__``): no
``NaN``/``None``/``<NA>`` (an en dash instead), no pandas row index, whole numbers as integers with
thousands separators (``4,075``, not ``4075.0``), no cut text, DOIs and URLs as links, long text
wrapped (CSS class ``ek-wrap``), column names in words.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: What an empty cell shows: an en dash, so a reader sees "nothing reported", never NaN or None.
EMPTY = "\u2013"

#: Column names in words, for the columns the review helpers return (others: underscores become spaces).
COLUMN_WORDS = {
    "id": "estimate id", "citation_key": "source", "question": "question", "outcome_domain": "outcome domain",
    "metric": "metric", "estimate": "estimate", "ci_lower": "95% CI lower", "ci_upper": "95% CI upper",
    "ci": "95% CI", "k": "studies (k)", "k_unit": "k counts", "k_total": "studies in the review", "n": "participants",
    "i2": "I\u00b2 (%)", "tau2": "\u03c4\u00b2", "pi_lower": "prediction interval lower", "pi_upper": "prediction interval upper",
    "text_read": "read from", "source_url": "link", "locator": "where in the source", "favourable": "better is",
    "review_grade": "the review's own GRADE", "amstar2": "AMSTAR 2 confidence", "n_syntheses": "syntheses",
    "n_rows": "estimates", "wwc_rating_published": "WWC's published rating", "wwc_standards_version": "WWC standards",
    "improvement_index": "improvement index", "outcome": "outcome as reported", "p_value": "p",
}

_URL = re.compile(r"^https?://\S+$")
_DOI = re.compile(r"^(?:doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_STYLE = ("<style>div.ek-reader-wrap table.ek-reader{border-collapse:collapse;font-size:0.92em;max-width:100%;"
          "margin:0.4em 0;table-layout:auto}"
          "div.ek-reader-wrap table.ek-reader th,div.ek-reader-wrap table.ek-reader td{padding:0.25em 0.55em;"
          "text-align:left;vertical-align:top;border-bottom:1px solid #d8d8d8;white-space:normal}"
          "div.ek-reader-wrap table.ek-reader th{border-bottom:2px solid #888;font-weight:600}"
          "div.ek-reader-wrap table.ek-reader td.ek-num{text-align:right;white-space:nowrap;"
          "font-variant-numeric:tabular-nums}"
          "div.ek-reader-wrap table.ek-reader td.ek-wrap{min-width:9em;max-width:34em;overflow-wrap:anywhere}"
          "div.ek-reader-wrap table.ek-reader caption{caption-side:top;text-align:left;font-weight:600;"
          "padding-bottom:0.3em}div.ek-reader-wrap a{overflow-wrap:anywhere}</style>")


@dataclass(frozen=True)
class ReaderTable:
    """A table formatted for reading: ``text`` is every cell as shown (strings), ``html`` the page."""

    text: pd.DataFrame
    html: str
    caption: str = ""

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        head = f"{self.caption}\n" if self.caption else ""
        if not len(self.text.columns):
            return head + "(no columns)"
        if not len(self.text):
            return head + "(no rows) " + ", ".join(self.text.columns)
        return head + self.text.to_string(index=False)

    def __len__(self) -> int:
        return len(self.text)


def is_missing(value) -> bool:
    """True for None, NaN, pd.NA, NaT and empty or blank strings."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_int(value) -> str:
    """``4075.0`` -> ``"4,075"``; missing -> en dash."""
    if is_missing(value):
        return EMPTY
    return f"{int(round(float(value))):,}"


def fmt_num(value, digits: int = 2) -> str:
    """A number for reading, to ``digits`` decimals with thousands separators and a true minus sign
    (``-0.25`` -> ``"\u22120.25"``); missing -> en dash. Counts: :func:`fmt_int`."""
    if is_missing(value):
        return EMPTY
    return f"{float(value):,.{digits}f}".replace("-", "\u2212")


def url_of(text) -> str | None:
    """The URL a cell points to: itself when it is an http(s) URL, https://doi.org/<doi> for a DOI."""
    if is_missing(text):
        return None
    s = str(text).strip()
    if _URL.match(s):
        return s
    m = _DOI.match(s)
    return f"https://doi.org/{m.group(1)}" if m else None


def link(url: str, text: str | None = None) -> str:
    """``<a href="url">text</a>`` with both escaped (text defaults to the URL)."""
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(text if text is not None else url)}</a>'


def _is_integral(col: pd.Series) -> bool:
    vals = pd.to_numeric(col, errors="coerce").dropna()
    return len(vals) > 0 and bool(np.all(np.isclose(vals, np.round(vals), rtol=0, atol=1e-9)))


def _cell_text(value, kind: str, digits: int) -> str:
    if is_missing(value):
        return EMPTY
    if kind == "int":
        return fmt_int(value)
    if kind == "float":
        return fmt_num(value, digits)
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, tuple | list | set | frozenset):
        parts = [str(v) for v in value if not is_missing(v)]
        return ", ".join(parts) if parts else EMPTY
    return str(value)


def _kind(col: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(col):
        return "text"
    if pd.api.types.is_integer_dtype(col):
        return "int"
    if pd.api.types.is_float_dtype(col):
        return "int" if _is_integral(col) else "float"
    return "text"


def reader_table(df: pd.DataFrame, columns: Sequence[str] | Mapping[str, str] | None = None, *,
                 links: Mapping[str, str] | None = None, wrap: Sequence[str] | None = None,
                 digits: int | Mapping[str, int] = 2, integers: Sequence[str] = (), html_columns: Sequence[str] = (),
                 caption: str = "", index: bool = False) -> ReaderTable:
    """Render ``df`` for reading (see the module docstring).

    Parameters
    ----------
    df : DataFrame
    columns : list of column names, or dict column -> heading, optional
        Which columns to show, in order (default all); a dict also names them. Headings default to
        :data:`COLUMN_WORDS` or the column name with underscores as spaces.
    links : dict column -> url column, optional
        Show the cell of ``column`` as a link to the URL (or DOI) in ``url column`` of the same row.
        Cells that are themselves a URL or a DOI are always links.
    wrap : list of column names, optional
        Columns whose text wraps (CSS class ``ek-wrap``); default every text column with a cell
        longer than 40 characters.
    digits : int or dict column -> int
        Decimals of non-integer numbers (display only).
    integers : columns always shown as integers (rounded), e.g. counts stored as floats with NaN.
    html_columns : columns whose cells are already HTML (e.g. a statement with links); not escaped.
    caption : a caption above the table.
    index : show the index as the first column (default False: no pandas row numbers).

    Returns
    -------
    ReaderTable
    """
    frame = df.reset_index() if index else df
    if columns is None:
        names = {c: None for c in frame.columns}
    elif isinstance(columns, Mapping):
        names = dict(columns)
    else:
        names = {c: None for c in columns}
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise ValueError(f"columns not in the table: {', '.join(map(str, missing))}")
    links = dict(links or {})
    bad = [u for u in links.values() if u not in frame.columns]
    if bad:
        raise ValueError(f"link columns not in the table: {', '.join(bad)}")
    headings = [h if h is not None else COLUMN_WORDS.get(str(c), str(c).replace("_", " ")) for c, h in names.items()]
    text, cells, classes = {}, {}, {}
    for c, heading in zip(names, headings):
        col = frame[c]
        kind = "int" if c in integers else _kind(col)
        d = digits.get(c, 2) if isinstance(digits, Mapping) else digits
        shown = [_cell_text(v, kind, d) for v in col]
        text[heading] = shown
        if c in html_columns:
            cells[heading] = [EMPTY if is_missing(v) else str(v) for v in col]
        else:
            urls = frame[links[c]] if c in links else col
            cells[heading] = [link(url_of(u), s) if url_of(u) and s != EMPTY else html.escape(s)
                              for s, u in zip(shown, urls)]
        long_text = kind == "text" and any(len(s) > 40 for s in shown)
        classes[heading] = "ek-num" if kind in ("int", "float") else (
            "ek-wrap" if (c in wrap if wrap is not None else long_text) else "")
    out = pd.DataFrame(text, columns=headings)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headings)
    body = []
    for i in range(len(frame)):
        tds = "".join(f'<td class="{classes[h]}">{cells[h][i]}</td>' if classes[h] else f"<td>{cells[h][i]}</td>"
                      for h in headings)
        body.append(f"<tr>{tds}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    page = (f'<div class="ek-reader-wrap">{_STYLE}<table class="ek-reader">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")
    return ReaderTable(out, page, caption)
