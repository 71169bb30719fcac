"""``read_citations``, ``write_citations`` and ``citations_frame``: one entry point per task.

Formats: ``"bibtex"`` (.bib), ``"ris"`` (.ris), ``"csl-json"`` (.json), ``"medline"`` (.nbib),
``"wos"`` (Web of Science tagged, .ciw).
``.txt`` is what several databases name their RIS and MEDLINE exports (PubMed, Web of Science,
EndNote), so a ``.txt`` file (or any other extension) is sniffed from its content: ``TY  - ``
means RIS, ``PMID- ``/``OWN - `` MEDLINE, ``FN ``/``PT J`` Web of Science, ``@type{`` BibTeX, ``[``/``{`` CSL-JSON; pass
``format=`` to decide yourself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from evidence_kit._core.validate import check_choice
from evidence_kit.citations import bibtex, csljson, medline, ris, wos
from evidence_kit.citations._text import decode_bytes
from evidence_kit.citations.model import Citation, CitationParseError

FORMATS = ("bibtex", "ris", "csl-json", "medline", "wos")
_ALIASES = {"bib": "bibtex", "biblatex": "bibtex", "json": "csl-json", "csl": "csl-json",
            "csljson": "csl-json", "nbib": "medline", "pubmed": "medline",
            "ciw": "wos", "web-of-science": "wos", "isi": "wos"}
_EXTENSIONS = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".json": "csl-json",
               ".nbib": "medline", ".medline": "medline", ".ciw": "wos"}
_READERS = {"bibtex": bibtex.read_bibtex, "ris": ris.read_ris, "csl-json": csljson.read_csljson,
            "medline": medline.read_medline, "wos": wos.read_wos}
_WRITERS = {"bibtex": bibtex.write_bibtex, "ris": ris.write_ris,
            "csl-json": csljson.write_csljson, "medline": medline.write_medline,
            "wos": wos.write_wos}


def _format_name(format: str) -> str:
    return check_choice("format", format, FORMATS, aliases=_ALIASES)


def sniff_format(text: str) -> str | None:
    """Guess the format from the content (``None`` when nothing fits)."""
    head = text.lstrip()[:20000]
    if re.search(r"(?m)^TY  - ", head):
        return "ris"
    if re.search(r"(?m)^(PMID|OWN |PMC |TI  )- ", head):
        return "medline"
    if re.search(r"(?m)^FN ", head) or re.search(r"(?m)^PT [A-Z]\s*$", head):
        return "wos"
    if head.startswith(("[", "{")):
        return "csl-json"
    if re.search(r"(?m)^\s*@\s*[A-Za-z]+\s*[{(]", head):
        return "bibtex"
    return None


def format_for_path(path, text: str | None = None) -> str:
    """The format for ``path``: from the extension, else sniffed from ``text``."""
    suffixes = "".join(Path(path).suffixes[-2:]).lower()
    if suffixes.endswith(".csl.json"):
        return "csl-json"
    fmt = _EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None and text is not None:
        fmt = sniff_format(text)
    if fmt is None:
        raise ValueError(f"{path}: cannot tell the citation format from the extension or the "
                         f"content; pass format= (one of {', '.join(FORMATS)})")
    return fmt


def parse_citations(text: str, format: str, *, file: str | None = None, strict: bool = True):
    """Parse citation text in ``format``: records, or ``(records, failures)`` when not strict."""
    fmt = _format_name(format)
    records, failures = _READERS[fmt](text, file, strict)
    return records if strict else (records, failures)


def read_citations(path, format: str | None = None, *, strict: bool = True,
                   encoding: str | None = None):
    """Read a citation file into a list of :class:`Citation` records.

    Parameters
    ----------
    path : str or Path
        The file. Its format comes from the extension (.bib, .ris, .json/.csl.json, .nbib,
        .ciw);
        ``.txt`` and unknown extensions are sniffed from the content.
    format : {"bibtex", "ris", "csl-json", "medline", "wos"}, optional
        Overrides the extension.
    strict : bool
        ``True`` (default): the first malformed record raises :class:`CitationParseError`
        naming file, line and record. ``False``: returns ``(records, failures)``, the failures
        being the ``CitationParseError`` of each record that could not be read; nothing is
        dropped silently.
    encoding : str, optional
        Decoding to use. Default: a BOM if present, else UTF-8, else Latin-1 (cp1252) with an
        ``EncodingFallbackWarning`` naming the file and the first non-UTF-8 byte.

    Notes
    -----
    Record order is file order; each record's ``source`` gives the file, line and format.
    Same-format round trips (read, write, read) return equal records; see the module docs of
    each format for what maps to which CSL-JSON variable.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = decode_bytes(raw, str(path), encoding)
    except UnicodeDecodeError as exc:
        err = CitationParseError(f"cannot decode as {encoding or exc.encoding}: {exc.reason}",
                                 file=str(path),
                                 line=raw.count(b"\n", 0, exc.start) + 1)
        if strict:
            raise err from None
        return [], [err]
    fmt = _format_name(format) if format is not None else format_for_path(path, text)
    return parse_citations(text, fmt, file=str(path), strict=strict)


def write_citations(records, path, format: str | None = None) -> Path:
    """Write records to a citation file.

    Parameters
    ----------
    records : iterable of Citation (or CSL-JSON dicts)
    path : str or Path
        The format comes from the extension (.bib, .ris, .json, .nbib, .ciw) unless ``format``
        is given.
    format : {"bibtex", "ris", "csl-json", "medline", "wos"}, optional

    Returns
    -------
    Path
        ``path``, written as UTF-8 with LF line ends.

    Notes
    -----
    Fields the format cannot express stay where they were read (``custom[<format>]``) and are
    written only by their own format; CSL-JSON keeps everything. What maps where is listed in
    each format's module (``bibtex``, ``ris``, ``medline``, ``wos``, ``csljson``).
    """
    path = Path(path)
    fmt = _format_name(format) if format is not None else _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: cannot tell the format from the extension; pass format= "
                         f"(one of {', '.join(FORMATS)})")
    path.write_text(format_citations(records, fmt), encoding="utf-8", newline="\n")
    return path


def format_citations(records, format: str) -> str:
    """The records as text in ``format``."""
    return _WRITERS[_format_name(format)](list(records))


def _names_text(names) -> str | None:
    if not names:
        return None
    out = []
    for n in names:
        if "literal" in n:
            out.append(str(n["literal"]))
        else:
            out.append(", ".join(p for p in (n.get("family"), n.get("given")) if p))
    return "; ".join(out)


def citations_frame(records) -> pd.DataFrame:
    """A DataFrame with one row per record, for screening and checking in a notebook.

    Parameters
    ----------
    records : iterable of Citation (or CSL-JSON dicts)

    Returns
    -------
    DataFrame
        Columns: id, type, title, authors ("Family, Given; ..."), first_author (family
        name), year (Int64), container_title, volume, issue, page, doi, url, pmid, pmcid,
        abstract, keywords ("; "-joined), file, line (Int64), format (where it was read).
        Values are as read (missing -> None / <NA>); DOIs are not normalised here (use
        :func:`normalize_doi`).
    """
    rows = []
    for rec in records:
        rec = rec if isinstance(rec, Citation) else Citation(rec)
        authors = rec.get("author") or []
        first = authors[0] if authors else {}
        src = rec.source
        kw = rec.get("keyword")
        rows.append({
            "id": rec.get("id"), "type": rec.get("type"), "title": rec.get("title"),
            "authors": _names_text(authors),
            "first_author": first.get("family", first.get("literal")) if first else None,
            "year": rec.year, "container_title": rec.get("container-title"),
            "volume": rec.get("volume"), "issue": rec.get("issue"), "page": rec.get("page"),
            "doi": rec.get("DOI"), "url": rec.get("URL"), "pmid": rec.get("PMID"),
            "pmcid": rec.get("PMCID"), "abstract": rec.get("abstract"),
            "keywords": "; ".join(kw) if isinstance(kw, list) else kw,
            "file": src.file if src else None, "line": src.line if src else None,
            "format": src.format if src else None,
        })
    frame = pd.DataFrame(rows, columns=[
        "id", "type", "title", "authors", "first_author", "year", "container_title", "volume",
        "issue", "page", "doi", "url", "pmid", "pmcid", "abstract", "keywords", "file", "line",
        "format"])
    frame["year"] = frame["year"].astype("Int64")
    frame["line"] = frame["line"].astype("Int64")
    return frame
