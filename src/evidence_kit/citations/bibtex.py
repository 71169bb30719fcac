"""BibTeX and biblatex: a tolerant parser with line numbers, the CSL mapping, and a writer.

The grammar is BibTeX's (Patashnik, *BibTeXing*, 1988, sections 2 and 4; Markey, *Tame the
BeaST*, 2007, part 3): entries ``@type{key, field = value, ...}`` or ``@type(...)``, values in
braces, quotes, bare numbers or ``@string`` macros joined with ``#``. What real exports add is
accepted too: ``%`` comment lines (biber, bibtexparser), entries without a key (EndNote) or with
an empty key (Mendeley), field names with spaces or ``+`` (Scopus, biblatex-apa), repeated fields
and repeated keys (both kept), ``\\{`` escapes, undefined macros (kept as their name).
"""

from __future__ import annotations

import re

from evidence_kit.citations._latex import (
    latex_to_unicode,
    unicode_to_latex,
    verbatim_to_text,
)
from evidence_kit.citations._text import LineIndex, date_to_text, month_number, parse_date
from evidence_kit.citations.model import Citation, CitationParseError, SourceLocation

FORMAT = "bibtex"
TYPE_KEY = "@type"  # custom.bibtex[TYPE_KEY]: the entry type when CSL cannot say it exactly

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

_ENTRY_START = re.compile(r"@[ \t]*([A-Za-z][\w\-:.+]*)[ \t\r\n]*([{(])?")
_FIELD_NAME = re.compile(r"\s*([^\s=,{}()\"#@%][^=,{}()\"#@%]*?)\s*=\s*")
_KEY = re.compile(r"\s*([^\s,={}()\"#%]*)\s*")
_WORD = re.compile(r"\s*([^\s,#{}()\"=]+)")
_NEXT_ENTRY_LINE = re.compile(r"(?m)^[ \t]*@")
_MONTH_MACROS = {m: m for m in
                 ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]}


class _Syntax(Exception):
    def __init__(self, reason: str, pos: int):
        super().__init__(reason)
        self.reason, self.pos = reason, pos


class _Parser:
    def __init__(self, text: str, file: str | None):
        self.text, self.file = text, file
        self.lines = LineIndex(text)
        self.macros: dict[str, str] = dict(_MONTH_MACROS)

    # --- values -------------------------------------------------------------------------
    def _braced(self, pos: int) -> tuple[str, int]:
        """``pos`` at ``{``; returns the inner text and the position after the closing brace.

        ``\\{`` and ``\\}`` are escapes and do not count (as biber and Better BibTeX read them).
        """
        text, depth, i = self.text, 0, pos
        n = len(text)
        while i < n:
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return text[pos + 1:i], i + 1
            i += 1
        raise _Syntax("unbalanced braces: value never closed", pos)

    def _quoted(self, pos: int) -> tuple[str, int]:
        text, depth, i = self.text, 0, pos + 1
        n = len(text)
        while i < n:
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth < 0:
                    raise _Syntax("unbalanced '}' inside a quoted value", i)
            elif ch == '"' and depth == 0:
                return text[pos + 1:i], i + 1
            i += 1
        raise _Syntax('quoted value never closed with "', pos)

    def _value(self, pos: int) -> tuple[str, int]:
        """A value: parts joined by ``#``; macros expanded (undefined ones kept by name)."""
        parts = []
        text = self.text
        while True:
            pos = self._skip_ws(pos)
            if pos >= len(text):
                raise _Syntax("file ends inside a field value", pos)
            ch = text[pos]
            if ch == "{":
                part, pos = self._braced(pos)
            elif ch == '"':
                part, pos = self._quoted(pos)
            else:
                m = _WORD.match(text, pos)
                if not m:
                    raise _Syntax(f"expected a value, found {text[pos:pos + 20]!r}", pos)
                word = m.group(1)
                pos = m.end()
                part = word if word.isdigit() else self.macros.get(word.lower(), word)
            parts.append(part)
            pos = self._skip_ws(pos)
            if pos < len(text) and text[pos] == "#":
                pos += 1
                continue
            return "".join(parts), pos

    def _skip_ws(self, pos: int) -> int:
        """Skip whitespace and ``%`` comment lines between fields."""
        text, n = self.text, len(self.text)
        while pos < n:
            ch = text[pos]
            if ch in " \t\r\n":
                pos += 1
            elif ch == "%":
                end = text.find("\n", pos)
                pos = n if end < 0 else end + 1
            else:
                break
        return pos

    # --- blocks -------------------------------------------------------------------------
    def entries(self):
        """Yield ``("entry", type, key, fields, start)`` or ``("error", reason, pos, key)``."""
        text, pos, n = self.text, 0, len(self.text)
        while pos < n:
            at = text.find("@", pos)
            if at < 0:
                return
            line_start = text.rfind("\n", 0, at) + 1
            prefix = text[line_start:at]
            if prefix.lstrip().startswith("%") or prefix.strip():
                # a commented-out line, or '@' inside free text (an e-mail address): not an entry
                end = text.find("\n", at)
                pos = n if end < 0 else end + 1
                continue
            m = _ENTRY_START.match(text, at)
            if not m:
                pos = at + 1
                continue
            kind, delim = m.group(1).lower(), m.group(2)
            if kind == "comment":
                if delim == "{" or delim == "(":
                    try:
                        pos = self._block_end(m.end() - 1, delim)
                    except _Syntax:
                        end = text.find("\n", at)
                        pos = n if end < 0 else end + 1
                else:
                    end = text.find("\n", at)
                    pos = n if end < 0 else end + 1
                continue
            if delim is None:
                yield ("error", f"@{m.group(1)} has no opening brace", at, None)
                pos = m.end()
                continue
            try:
                if kind in ("string", "preamble"):
                    pos = self._special(kind, m.end(), delim)
                    continue
                item, pos = self._entry(m.group(1), m.end(), delim, at)
                yield item
            except _Syntax as exc:
                key = self._guess_key(m.end())
                yield ("error", exc.reason, exc.pos, key)
                nxt = _NEXT_ENTRY_LINE.search(text, m.end())
                pos = n if nxt is None else nxt.start()

    def _block_end(self, pos: int, delim: str) -> int:
        if delim == "{":
            return self._braced(pos)[1]
        close = self.text.find(")", pos)
        if close < 0:
            raise _Syntax("block never closed", pos)
        return close + 1

    def _guess_key(self, pos: int) -> str | None:
        m = _KEY.match(self.text, pos)
        return m.group(1) if m and m.group(1) else None

    def _special(self, kind: str, pos: int, delim: str) -> int:
        close = "}" if delim == "{" else ")"
        if kind == "preamble":
            _, pos = self._value(pos)
        else:
            fm = _FIELD_NAME.match(self.text, pos)
            if not fm:
                raise _Syntax("@string without 'name = value'", pos)
            value, pos = self._value(fm.end())
            self.macros[fm.group(1).strip().lower()] = value
        pos = self._skip_ws(pos)
        if pos < len(self.text) and self.text[pos] == ",":
            pos = self._skip_ws(pos + 1)
        if pos >= len(self.text) or self.text[pos] != close:
            raise _Syntax(f"@{kind} not closed with {close!r}", pos)
        return pos + 1

    def _entry(self, etype: str, pos: int, delim: str, start: int):
        text, n = self.text, len(self.text)
        close = "}" if delim == "{" else ")"
        km = _KEY.match(text, pos)
        key = km.group(1)
        after = km.end()
        if after < n and text[after] == "=":  # no key at all (EndNote): first token is a field
            key, after = "", pos
        elif after < n and text[after] == ",":
            after += 1
        elif after < n and text[after] == close:
            return ("entry", etype, key, [], start), after + 1
        else:
            raise _Syntax(f"expected ',' after the citation key {key!r}", after)
        fields: list[tuple[str, str]] = []
        pos = after
        while True:
            pos = self._skip_ws(pos)
            if pos >= n:
                raise _Syntax(f"entry not closed with {close!r} before the end of the file", start)
            ch = text[pos]
            if ch == close:
                return ("entry", etype, key, fields, start), pos + 1
            if ch == ",":
                pos += 1
                continue
            fm = _FIELD_NAME.match(text, pos)
            if not fm:
                raise _Syntax(f"expected 'field = value' or {close!r}, found "
                              f"{text[pos:pos + 30]!r}", pos)
            value, pos = self._value(fm.end())
            fields.append((fm.group(1).strip().lower(), value))
            pos = self._skip_ws(pos)
            if pos < n and text[pos] not in ("," + close):
                raise _Syntax(f"expected ',' or {close!r} after field {fm.group(1).strip()!r}, "
                              f"found {text[pos:pos + 30]!r}", pos)


# --- names --------------------------------------------------------------------------------
def _split_top(text: str, sep: re.Pattern) -> list[str]:
    """Split on ``sep`` matches that are at brace depth 0."""
    out, depth, last = [], 0, 0
    depths = []
    prev = ""
    for ch in text:
        if prev != "\\":
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
        prev = "" if prev == "\\" else ch
        depths.append(depth)
    for m in sep.finditer(text):
        if m.start() == 0 or depths[m.start() - 1] == 0:
            out.append(text[last:m.start()])
            last = m.end()
    out.append(text[last:])
    return out


_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_COMMA = re.compile(r",")
_SPACE = re.compile(r"\s+")


def _is_lower_word(word: str) -> bool:
    """BibTeX's von test: the first letter at brace depth 0 is lower case."""
    depth, prev = 0, ""
    for ch in word:
        if prev == "\\":
            prev = ""
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch.isalpha() and depth == 0:
            return ch.islower()
        prev = ch
    return False


def parse_names(raw: str) -> list[dict]:
    """A BibTeX name list -> CSL names (Patashnik 1988, section 4: 'First von Last',
    'von Last, First', 'von Last, Jr, First'; a single braced group is a literal name)."""
    names = []
    for part in _split_top(raw.strip(), _AND):
        part = part.strip()
        if not part:
            continue
        if part.startswith("{") and part.endswith("}") and _balanced_group(part):
            names.append({"literal": latex_to_unicode(part)})
            continue
        if part.lower() == "others":
            names.append({"literal": "others"})
            continue
        pieces = [p.strip() for p in _split_top(part, _COMMA)]
        if len(pieces) == 1:
            words = [w for w in _split_top(part, _SPACE) if w]
            last = len(words) - 1
            first_von = next((i for i, w in enumerate(words[:last]) if _is_lower_word(w)), None)
            if first_von is None:
                given_words, von_words, family_words = words[:last], [], words[last:]
            else:
                von_end = max(i for i in range(first_von, last) if _is_lower_word(words[i])) + 1
                given_words = words[:first_von]
                von_words, family_words = words[first_von:von_end], words[von_end:]
            suffix = None
        else:
            words = [w for w in _split_top(pieces[0], _SPACE) if w]
            lower = [i for i in range(len(words) - 1) if _is_lower_word(words[i])]
            n_von = lower[-1] + 1 if lower and lower[0] == 0 else 0
            von_words, family_words = words[:n_von], words[n_von:]
            if len(pieces) >= 3:
                suffix, given_words = pieces[1], [", ".join(pieces[2:])]
            else:
                suffix, given_words = None, [pieces[1]]
        name = {}
        family = latex_to_unicode(" ".join(family_words))
        if family:
            name["family"] = family
        given = latex_to_unicode(" ".join(given_words))
        if given:
            name["given"] = given
        if von_words:
            name["non-dropping-particle"] = latex_to_unicode(" ".join(von_words))
        if suffix:
            name["suffix"] = latex_to_unicode(suffix)
        names.append(name or {"literal": ""})
    return names


def _balanced_group(text: str) -> bool:
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "{") - (ch == "}")
        if depth == 0 and i < len(text) - 1:
            return False
    return depth == 0


def _name_to_bibtex(name: dict) -> str:
    if "literal" in name:
        lit = name["literal"]
        return "others" if lit == "others" else "{" + unicode_to_latex(lit) + "}"
    family = unicode_to_latex(name.get("family", ""))
    if family and ("," in family or _is_lower_word(family) or _AND.search(f" {family} ")
                   or " " in family):
        family = "{" + family + "}"
    particle = name.get("non-dropping-particle") or name.get("dropping-particle")
    if particle:
        family = f"{unicode_to_latex(particle)} {family}"
    given = unicode_to_latex(name.get("given", ""))
    if "," in given or _AND.search(f" {given} "):
        given = "{" + given + "}"
    if name.get("suffix"):
        return f"{family}, {unicode_to_latex(name['suffix'])}, {given}"
    return f"{family}, {given}" if given else family


# --- entry <-> Citation --------------------------------------------------------------------
def _split_keywords(text: str) -> list[str]:
    sep = ";" if ";" in text else ","
    return [k.strip() for k in text.split(sep) if k.strip()]


def _keywords_text(keywords) -> str:
    if isinstance(keywords, str):
        return keywords
    sep = "; " if any("," in k for k in keywords) else ", "
    return sep.join(keywords)


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
            rec[NAME_FIELDS[name]] = parse_names(value)
        elif name in VERBATIM_FIELDS and VERBATIM_FIELDS[name] not in rec:
            rec[VERBATIM_FIELDS[name]] = verbatim_to_text(value)
        elif name == "pages" and "page" not in rec:
            rec["page"] = re.sub(r"\s*-{1,3}\s*", "-", latex_to_unicode(value))
        elif name == "number" and ("issue" if csl_type.startswith("article") else "number") not in rec:
            rec["issue" if csl_type.startswith("article") else "number"] = latex_to_unicode(value)
        elif name in ("keywords", "keyword") and "keyword" not in rec:
            rec["keyword"] = _split_keywords(latex_to_unicode(value))
        elif name == "year" and year is None and "issued" not in rec:
            year = latex_to_unicode(value)
        elif name == "month" and month is None and month_number(latex_to_unicode(value)):
            month = month_number(latex_to_unicode(value))
        elif name == "date" and "issued" not in rec and year is None and parse_date(value):
            rec["issued"] = parse_date(value)
        elif name == "urldate" and "accessed" not in rec and parse_date(value):
            rec["accessed"] = parse_date(value)
        elif name in TEXT_FIELDS and TEXT_FIELDS[name] not in rec:
            rec[TEXT_FIELDS[name]] = latex_to_unicode(value)
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


_MONTH_ABBR = [None, "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
               "nov", "dec"]


def citation_to_entry(rec: dict) -> str:
    """One Citation as a BibTeX entry (UTF-8; special characters escaped)."""
    custom = dict((rec.get("custom") or {}).get(FORMAT, {}))
    etype = custom.pop(TYPE_KEY, None) or CSL_TO_TYPE.get(rec.get("type", ""), "misc")
    lines = []

    def put(field, value, braces=True):
        lines.append(f"  {field} = {{{value}}}" if braces else f"  {field} = {value}")

    for var, field in (("author", "author"), ("editor", "editor"),
                       ("translator", "translator"), ("container-author", "bookauthor")):
        if rec.get(var):
            put(field, " and ".join(_name_to_bibtex(n) for n in rec[var]))
    if rec.get("title") is not None:
        put("title", unicode_to_latex(str(rec["title"])))
    if rec.get("container-title") is not None:
        field = "journal" if etype.lower() == "article" else "booktitle"
        put(field, unicode_to_latex(str(rec["container-title"])))
    issued = rec.get("issued")
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if parts and parts[0] and len(parts) == 1 and len(parts[0]) > 2 and "raw" not in issued:
            put("date", date_to_text(issued))
        elif parts and parts[0] and len(parts) == 1 and "raw" not in issued:
            put("year", str(parts[0][0]))
            if len(parts[0]) > 1 and parts[0][1]:
                put("month", _MONTH_ABBR[int(parts[0][1])], braces=False)
        elif issued.get("literal") is not None:
            put("year", unicode_to_latex(str(issued["literal"])))
        elif date_to_text(issued):
            put("date", date_to_text(issued))
    if rec.get("accessed") and date_to_text(rec["accessed"]):
        put("urldate", date_to_text(rec["accessed"]))
    if rec.get("page") is not None:
        put("pages", unicode_to_latex(str(rec["page"])).replace("-", "--"))
    if rec.get("keyword"):
        put("keywords", unicode_to_latex(_keywords_text(rec["keyword"])))
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
            put(field, unicode_to_latex(value))
    for field, value in custom.items():
        for v in value if isinstance(value, list) else [value]:
            put(field, v)
    return f"@{etype}{{{rec.get('id') or ''},\n" + ",\n".join(lines) + "\n}\n"


def read_bibtex(text: str, file: str | None = None, strict: bool = True):
    """Parse BibTeX text; returns ``(records, failures)``. ``strict`` raises on the first failure."""
    parser = _Parser(text, file)
    raw_entries, failures = [], []
    for item in parser.entries():
        if item[0] == "error":
            _, reason, pos, key = item
            err = CitationParseError(reason, file=file, line=parser.lines.line(pos),
                                     record=key if key else f"#{len(raw_entries) + len(failures) + 1}")
            if strict:
                raise err
            failures.append(err)
        else:
            raw_entries.append(item)
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


def write_bibtex(records) -> str:
    return "\n".join(citation_to_entry(r) for r in records)
