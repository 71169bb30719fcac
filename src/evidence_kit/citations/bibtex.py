"""BibTeX and biblatex: a tolerant parser with line numbers, the CSL mapping, and a writer.

The grammar is BibTeX's (Patashnik, *BibTeXing*, 1988, sections 2 and 4; Markey, *Tame the
BeaST*, 2007, part 3): entries ``@type{key, field = value, ...}`` or ``@type(...)``, values in
braces, quotes, bare numbers or ``@string`` macros joined with ``#``. What real exports add is
accepted too: ``%`` comment lines (biber, bibtexparser), entries without a key (EndNote) or with
an empty key (Mendeley), field names with spaces or ``+`` (Scopus, biblatex-apa), repeated fields
and repeated keys (both kept), ``\\{`` escapes, undefined macros (kept as their name).

Nothing is lost without a word: an entry start at the beginning of a line (``@type{``) ends
whatever value, entry or ``@comment`` came before it, so an unbalanced brace costs its own entry
(reported) and never the ones after it; a final pass checks that every such entry start became
a record or a failure. Line ends may be LF, CRLF or CR.
"""

from __future__ import annotations

import re

from evidence_kit.citations._bibnames import _split_top, parse_names
from evidence_kit.citations._bibnames import name_to_bibtex as _name_to_bibtex
from evidence_kit.citations._bibparse import Parser
from evidence_kit.citations._latex import (
    latex_to_unicode,
    unicode_to_latex,
    verbatim_to_text,
)
from evidence_kit.citations._text import date_to_text, month_number, parse_date, unaccounted
from evidence_kit.citations.model import Citation, CitationParseError, SourceLocation

FORMAT = "bibtex"
TYPE_KEY = "@type"  # custom.bibtex[TYPE_KEY]: the entry type when CSL cannot say it exactly
LATEX_KEY = "@latex"  # custom.bibtex[LATEX_KEY][csl variable]: the field's LaTeX as written

TYPE_TO_CSL = {
    "article": "article-journal", "book": "book", "mvbook": "book", "inbook": "chapter",
    "incollection": "chapter", "bookinbook": "chapter", "book_section": "chapter",
    "inproceedings": "paper-conference", "conference": "paper-conference",
    "proceedings": "book", "collection": "book", "mvcollection": "book",
    "phdthesis": "thesis", "mastersthesis": "thesis", "thesis": "thesis",
    "techreport": "report", "report": "report", "online": "webpage", "www": "webpage",
    "electronic": "webpage", "webpage": "webpage", "web_page": "webpage",
    "misc": "document", "unpublished": "manuscript", "manual": "book", "booklet": "pamphlet",
    "dataset": "dataset", "software": "software", "patent": "patent",
    "periodical": "periodical", "newspaper_article": "article-newspaper",
    "magazine_article": "article-magazine", "jurisdiction": "legal_case",
    "legislation": "legislation", "video": "motion_picture", "film": "motion_picture",
    "audio": "song", "generic": "document", "article-journal": "article-journal",
}
CSL_TO_TYPE = {
    "article-journal": "article", "article": "article", "article-magazine": "article",
    "article-newspaper": "article", "book": "book", "chapter": "incollection",
    "paper-conference": "inproceedings", "thesis": "phdthesis", "report": "techreport",
    "webpage": "online", "post-weblog": "online", "document": "misc", "manuscript": "unpublished",
    "pamphlet": "booklet", "dataset": "dataset", "software": "software", "patent": "patent",
}
# BibTeX field -> CSL variable for plain text fields (decoded from LaTeX)
TEXT_FIELDS = {
    "title": "title", "journal": "container-title", "journaltitle": "container-title",
    "booktitle": "container-title", "volume": "volume", "abstract": "abstract",
    "publisher": "publisher", "address": "publisher-place", "location": "publisher-place",
    "edition": "edition", "isbn": "ISBN", "issn": "ISSN", "pmid": "PMID", "pmcid": "PMCID",
    "language": "language", "note": "note", "series": "collection-title",
    "chapter": "chapter-number", "shorttitle": "title-short", "school": "publisher",
    "institution": "publisher", "type": "genre", "howpublished": "medium",
    "shortjournal": "container-title-short", "issue": "issue", "eid": "number",
}
VERBATIM_FIELDS = {"doi": "DOI", "url": "URL"}
NAME_FIELDS = {"author": "author", "editor": "editor", "translator": "translator",
               "bookauthor": "container-author"}
# canonical field written for each CSL variable
CSL_TO_FIELD = {
    "title": "title", "volume": "volume", "abstract": "abstract", "publisher": "publisher",
    "publisher-place": "address", "edition": "edition", "ISBN": "isbn", "ISSN": "issn",
    "PMID": "pmid", "PMCID": "pmcid", "language": "language", "note": "note",
    "collection-title": "series", "chapter-number": "chapter", "title-short": "shorttitle",
    "genre": "type", "medium": "howpublished", "container-title-short": "shortjournal",
    "DOI": "doi", "URL": "url", "number": "number", "issue": "number",
}

# --- entry <-> Citation --------------------------------------------------------------------
def _split_keywords(raw: str) -> list[str]:
    """A ``keywords`` value (LaTeX as written) -> keywords: split on ``;`` when there is one at
    brace depth 0, else on ``,``; a braced keyword (``{Schools, Public}``) stays whole."""
    sep = _SEMICOLON if len(_split_top(raw, _SEMICOLON)) > 1 else _COMMA
    words = (latex_to_unicode(k) for k in _split_top(raw, sep))
    return [k for k in words if k]


_SEMICOLON, _COMMA = re.compile(";"), re.compile(",")


def _keywords_text(keywords) -> str:
    """Keywords -> LaTeX: ``; ``-joined when one holds a comma (MeSH headings do); a keyword that
    would otherwise split is braced, so :func:`_split_keywords` reads each back whole."""
    if isinstance(keywords, str):
        return unicode_to_latex(keywords)
    sep = "; " if any("," in k for k in keywords) else ", "

    def one(k: str) -> str:  # a lone keyword with a comma has no ';' beside it: brace it
        whole = ";" in k or ("," in k and len(keywords) == 1)
        return "{" + unicode_to_latex(k) + "}" if whole else unicode_to_latex(k)

    return sep.join(one(k) for k in keywords)


def _put_custom(rec: Citation, field: str, value: str) -> None:
    custom = rec.custom_fields(FORMAT)
    if field in custom:
        old = custom[field]
        custom[field] = (old if isinstance(old, list) else [old]) + [value]
    else:
        custom[field] = value


def entry_to_citation(etype: str, key: str, fields: list[tuple[str, str]],
                      parents: dict | None = None) -> Citation:
    """Map one parsed entry to a :class:`Citation` (unmapped fields kept raw in custom).

    ``crossref``: the mapped CSL variables the child lacks are taken from the parent (the
    parent's title becomes the child's container-title), as biblatex inherits data (biblatex
    manual, section 2.4.1 and appendix B); the ``crossref`` field itself is kept.
    """
    rec = _map_entry(etype, key, fields)
    target = next((v.strip() for n, v in fields if n == "crossref"), None)
    if parents is not None and target:
        parent = parents.get(target) or parents.get(target.lower())
        if parent is not None:
            prec = _map_entry(parent[0], target, parent[1])
            if "title" in prec and "container-title" not in rec:
                rec["container-title"] = prec["title"]
            for var, value in prec.items():
                if var not in rec and var not in _CROSSREF_SKIP_CSL:
                    rec[var] = value
    return rec


_CROSSREF_SKIP_CSL = {"id", "type", "title", "title-short", "custom", "abstract", "page", "DOI",
                      "URL", "author", "chapter-number", "note", "keyword"}


def _map_entry(etype: str, key: str, fields: list[tuple[str, str]]) -> Citation:
    rec = Citation()
    rec["id"] = key
    low = etype.lower()
    csl_type = TYPE_TO_CSL.get(low, "document")
    rec["type"] = csl_type
    if CSL_TO_TYPE.get(csl_type) != low:
        rec.custom_fields(FORMAT)[TYPE_KEY] = etype
    year = month = None
    for name, value in fields:
        if name in NAME_FIELDS and NAME_FIELDS[name] not in rec and value.strip():
            rec[NAME_FIELDS[name]] = names = parse_names(value)
            _keep_latex(rec, NAME_FIELDS[name], value, " and ".join(map(_name_to_bibtex, names)))
        elif name in VERBATIM_FIELDS and VERBATIM_FIELDS[name] not in rec:
            rec[VERBATIM_FIELDS[name]] = verbatim_to_text(_strip_outer_braces(value))
        elif name == "pages" and "page" not in rec:
            rec["page"] = re.sub(r"\s*-{1,3}\s*", "-", latex_to_unicode(value))
        elif name == "number" and ("issue" if csl_type.startswith("article") else "number") not in rec:
            rec["issue" if csl_type.startswith("article") else "number"] = latex_to_unicode(value)
        elif name in ("keywords", "keyword") and "keyword" not in rec:
            rec["keyword"] = _split_keywords(value)
        elif name == "year" and year is None and "issued" not in rec:
            year = latex_to_unicode(value)
        elif name == "month" and month is None and month_number(latex_to_unicode(value)):
            month = month_number(latex_to_unicode(value))
        elif name == "date" and "issued" not in rec and year is None and parse_date(value):
            rec["issued"] = parse_date(value)
        elif name == "urldate" and "accessed" not in rec and parse_date(value):
            rec["accessed"] = parse_date(value)
        elif name in TEXT_FIELDS and TEXT_FIELDS[name] not in rec:
            rec[TEXT_FIELDS[name]] = text = latex_to_unicode(value)
            _keep_latex(rec, TEXT_FIELDS[name], value, unicode_to_latex(text))
        else:
            _put_custom(rec, name, value)
    if year is not None:
        if re.fullmatch(r"\d{1,4}", year):
            rec["issued"] = {"date-parts": [[int(year)] + ([month] if month else [])]}
        else:
            rec["issued"] = {"literal": year}
            if month:
                _put_custom(rec, "month", str(month))
    elif month:
        _put_custom(rec, "month", str(month))
    return rec


_BRACE_RUN = re.compile(r"\\.|\{+|\}+", re.DOTALL)


def _strip_outer_braces(text: str) -> str:
    """``{{ {10.1/x} }}`` -> ``10.1/x`` in one pass (``verbatim_to_text`` alone re-scans the
    value for every layer: quadratic for a value nested thousands of levels deep).

    With ``L`` braces opening the value, ``T`` closing it and the depth never below ``m`` in
    between, the outer ``min(L, T, m)`` pairs wrap the whole value."""
    text = text.strip()
    mid_start = len(text) - len(text.lstrip("{ \t\r\n"))  # str.strip: linear, no regex backtracking
    opening = text[:mid_start]
    n_open = opening.count("{")
    if not n_open:
        return text
    mid_end = max(len(text.rstrip("} \t\r\n")), mid_start)
    if text[mid_start - 1:mid_end].endswith("\\"):  # the first closing brace is escaped
        return text
    depth = lowest = n_open
    for m in _BRACE_RUN.finditer(text, mid_start, mid_end):
        run = m.group()
        if run[0] == "{":
            depth += len(run)
        elif run[0] == "}":
            depth -= len(run)
            lowest = min(lowest, depth)
    n_close = text.count("}", mid_end)
    if lowest < 0 or depth != n_close:  # unbalanced: leave it as written
        return text
    layers = min(n_open, n_close, lowest)
    if not layers:
        return text
    lo = [i for i, c in enumerate(opening) if c == "{"][layers - 1] + 1
    hi = [mid_end + i for i, c in enumerate(text[mid_end:]) if c == "}"][-layers]
    return text[lo:hi].strip()


def _keep_latex(rec: Citation, var: str, raw: str, canonical: str) -> None:
    """Keep the LaTeX as written (case-protecting braces, accent commands) when writing the
    decoded value back would spell it differently; the writer uses it while the value is
    unchanged, so BibTeX -> BibTeX keeps ``{DNA}`` and ``{\\"u}`` as they were."""
    raw = raw.strip()
    if " ".join(raw.split()) != canonical:
        rec.custom_fields(FORMAT).setdefault(LATEX_KEY, {})[var] = raw


_MONTH_ABBR = [None, "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
               "nov", "dec"]


def citation_to_entry(rec: dict) -> str:
    """One Citation as a BibTeX entry (UTF-8; special characters escaped)."""
    custom = dict((rec.get("custom") or {}).get(FORMAT, {}))
    etype = custom.pop(TYPE_KEY, None) or CSL_TO_TYPE.get(rec.get("type", ""), "misc")
    latex = custom.pop(LATEX_KEY, None) or {}
    lines = []

    def text(var: str) -> str:
        value = str(rec[var])
        raw = latex.get(var)
        return raw if raw is not None and latex_to_unicode(raw) == value else unicode_to_latex(value)

    def names(var: str) -> str:
        raw = latex.get(var)
        if raw is not None and parse_names(raw) == rec[var]:
            return raw
        return " and ".join(_name_to_bibtex(n) for n in rec[var])

    def put(field, value, braces=True):
        lines.append(f"  {field} = {{{value}}}" if braces else f"  {field} = {value}")

    for var, field in (("author", "author"), ("editor", "editor"),
                       ("translator", "translator"), ("container-author", "bookauthor")):
        if rec.get(var):
            put(field, names(var))
    if rec.get("title") is not None:
        put("title", text("title"))
    if rec.get("container-title") is not None:
        field = "journal" if etype.lower() == "article" else "booktitle"
        put(field, text("container-title"))
    issued = rec.get("issued")
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        month = parts[0][1] if parts and parts[0] and len(parts[0]) > 1 else None
        simple = parts and parts[0] and len(parts) == 1 and len(parts[0]) <= 2 and (
            not month or 1 <= int(month) <= 12)
        if simple:  # year, or year and month: the classic BibTeX fields
            put("year", str(parts[0][0]))
            if month:
                put("month", _MONTH_ABBR[int(month)], braces=False)
        elif parts and parts[0] and date_to_text({"date-parts": parts}):
            put("date", date_to_text({"date-parts": parts}))  # days, ranges, seasons (EDTF)
        elif issued.get("literal") is not None:
            put("year", unicode_to_latex(str(issued["literal"])))
        elif date_to_text(issued):
            put("date", date_to_text(issued))
    if rec.get("accessed") and date_to_text(rec["accessed"]):
        put("urldate", date_to_text(rec["accessed"]))
    if rec.get("page") is not None:
        put("pages", unicode_to_latex(str(rec["page"])).replace("-", "--"))
    if rec.get("keyword"):
        put("keywords", _keywords_text(rec["keyword"]))
    for var, field in CSL_TO_FIELD.items():
        if rec.get(var) is None or var == "title":
            continue
        value = str(rec[var])
        if var == "issue" and etype.lower() != "article":
            field = "issue"
        elif var == "number" and etype.lower() == "article":
            field = "eid"  # biblatex's article number; "number" is an article's issue
        if var in ("DOI", "URL"):
            put(field, value.replace("{", r"\{").replace("}", r"\}"))
        else:
            put(field, text(var))
    for field, value in custom.items():
        for v in value if isinstance(value, list) else [value]:
            put(field, v)
    return f"@{etype}{{{rec.get('id') or ''},\n" + ",\n".join(lines) + "\n}\n"


def read_bibtex(text: str, file: str | None = None, strict: bool = True):
    """Parse BibTeX text; returns ``(records, failures)``. ``strict`` raises on the first failure.

    Line ends may be LF, CRLF or CR (old Mac exports). Every entry start at the beginning of a
    line ends up as a record or a failure: a final pass checks it.
    """
    text = _LINE_ENDS.sub("\n", text) if "\r" in text else text  # line numbers are unchanged
    parser = Parser(text, file)
    raw_entries, failures = [], []
    accounted: set[int] = set()
    for item in parser.entries():
        if item[0] == "error":
            _, reason, pos, key, at = item
            err = CitationParseError(reason, file=file, line=parser.lines.line(pos),
                                     record=key if key else f"#{len(raw_entries) + len(failures) + 1}")
            if strict:
                raise err
            failures.append(err)
            accounted.add(at)
        else:
            raw_entries.append(item)
            accounted.add(item[4])
    for at in unaccounted(parser.entry_starts, accounted):
        err = CitationParseError("entry start neither read nor reported (a reader bug: please "
                                 "report it)", file=file, line=parser.lines.line(at))
        if strict:
            raise err
        failures.append(err)
    parents: dict = {}
    for _, etype, key, fields, _ in raw_entries:
        parents.setdefault(key, (etype, fields))
        parents.setdefault(key.lower(), (etype, fields))
    records = []
    for i, (_, etype, key, fields, start) in enumerate(raw_entries):
        rec = entry_to_citation(etype, key, fields, parents)
        rec.source = SourceLocation(file, parser.lines.line(start), FORMAT, i)
        records.append(rec)
    return records, failures


_LINE_ENDS = re.compile(r"\r\n?")


def write_bibtex(records) -> str:
    return "\n".join(citation_to_entry(r) for r in records)
