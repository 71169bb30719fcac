"""APA 7 reference-list entries for journal articles, books, chapters, reports, theses and web
pages (American Psychological Association, *Publication Manual*, 7th ed., 2020, chapters 9-10).

Output as plain text, Markdown (``*italics*``) or HTML (``<i>``, DOI and URL as links). Only
http, https and doi URLs become links; every value is escaped (HTML entities, or Markdown
backslash escapes, so neither raw HTML nor Markdown link syntax in a record reaches a page). Titles
are printed as the record gives them: APA's sentence case is not forced (turning
"Evidence From Schools" into sentence case needs to know which words are proper nouns).
"""

from __future__ import annotations

import html
import re
import unicodedata

from evidence_kit._core.validate import check_choice
from evidence_kit.citations.ids import doi_url

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
STYLES = ("apa",)
FORMATS = ("text", "html", "markdown")


# only these become links: a javascript:, data: or vbscript: URL read from a file stays text
_LINKABLE = re.compile(r"(?:https?://|doi:)[^\s<>\x00-\x1f\x7f]+", re.IGNORECASE)
# Markdown syntax (and raw HTML, which Markdown passes through) in a value: backslash-escaped;
# '&' only where it would start an entity
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]<>])|&(?=#?\w+;)")


class _Out:
    """Italics and links in the chosen output format; every value from a record is escaped."""

    def __init__(self, fmt: str):
        self.fmt = fmt

    def text(self, s: str) -> str:
        if self.fmt == "html":
            return html.escape(s, quote=False)
        if self.fmt == "markdown":
            return _MARKDOWN_ACTIVE.sub(lambda m: "\\" + m.group(0), s)
        return s

    def italic(self, s: str) -> str:
        if not s:
            return ""
        if self.fmt in ("html", "markdown"):
            return f"<i>{self.text(s)}</i>" if self.fmt == "html" else f"*{self.text(s)}*"
        return s

    def link(self, url: str) -> str:
        """A link for an http, https or doi URL; any other URL (``javascript:...``) as text."""
        if self.fmt == "text":
            return url
        if not _LINKABLE.fullmatch(url):
            return self.text(url)
        href = "https://doi.org/" + url[4:].lstrip() if url[:4].lower() == "doi:" else url
        if self.fmt == "html":
            return f'<a href="{html.escape(href, quote=True)}">{html.escape(url, quote=False)}</a>'
        return f"<{href}>"


def _initials(given: str) -> str:
    """``"Jean-Paul Marie"`` -> ``"J.-P. M."``; ``"JA"`` (MEDLINE initials) -> ``"J. A."``
    (APA 7, section 9.8)."""
    given = given.strip()
    if not given:
        return ""
    if given.isupper() and given.isalpha() and len(given) <= 3:
        return " ".join(f"{c}." for c in given)
    out = []
    for word in given.split():
        if re.fullmatch(r"(?:[^\W\d_]\.){2,}", word):  # "D.G." -> "D. G."
            out.append(" ".join(f"{c}." for c in word.split(".") if c))
            continue
        parts = [p for p in word.split("-") if p.strip(".")]
        out.append("-".join(f"{p.strip('.')[0]}." for p in parts))
    return " ".join(out)


def _family(name: dict) -> str:
    family = name.get("family", "")
    particle = name.get("non-dropping-particle") or name.get("dropping-particle")
    return f"{particle} {family}".strip() if particle else family


def _inverted(name: dict) -> str:
    """Family, I. I., Suffix (reference-list author form)."""
    if "literal" in name:
        return name["literal"]
    bits = _family(name)
    ini = _initials(name.get("given", ""))
    if ini:
        bits += f", {ini}"
    if name.get("suffix"):
        bits += f", {name['suffix']}"
    return bits


def _direct(name: dict) -> str:
    """I. I. Family (editors inside a chapter reference)."""
    if "literal" in name:
        return name["literal"]
    return " ".join(p for p in (_initials(name.get("given", "")), _family(name),
                                name.get("suffix")) if p)


def author_list(names: list[dict]) -> str:
    """APA 7 author list (section 9.8): up to 20 names, "&" before the last; with 21 or more,
    the first 19, an ellipsis, then the last name, without "&"."""
    inv = [_inverted(n) for n in names]
    if len(inv) == 1:
        return inv[0]
    if len(inv) <= 20:
        return ", ".join(inv[:-1]) + ", & " + inv[-1]
    return ", ".join(inv[:19]) + ", . . . " + inv[-1]


def _editor_list(names: list[dict]) -> str:
    ed = [_direct(n) for n in names]
    if len(ed) == 1:
        text = ed[0]
    elif len(ed) == 2:
        text = f"{ed[0]} & {ed[1]}"
    else:
        text = ", ".join(ed[:-1]) + ", & " + ed[-1]
    return f"{text} ({'Ed.' if len(ed) == 1 else 'Eds.'})"


def _date(rec: dict, full: bool) -> str:
    """(2020), (2020, March 5) for web pages and news, (n.d.) when undated (section 9.14)."""
    issued = rec.get("issued")
    if isinstance(issued, dict):
        parts = (issued.get("date-parts") or [[]])[0]
        if parts and parts[0] not in (None, ""):
            text = str(parts[0])
            if full and len(parts) > 1 and parts[1] and 1 <= int(parts[1]) <= 12:
                text += f", {_MONTHS[int(parts[1]) - 1]}"
                if len(parts) > 2 and parts[2]:
                    text += f" {int(parts[2])}"
            return text
        if issued.get("literal"):
            return str(issued["literal"])
        if issued.get("raw"):
            return str(issued["raw"])
    return "n.d."


def _end(s: str) -> str:
    """Add the closing period unless the element already ends with . ? or !"""
    s = s.rstrip()
    return s if s.endswith((".", "?", "!")) else s + "."


def _pages(page) -> str:
    return re.sub(r"\s*(?:-{1,3}|–)\s*", "–", str(page).strip())


def _doi_or_url(rec: dict, out: _Out) -> str:
    doi = rec.get("DOI")
    if doi:
        url = doi_url(doi)  # https://doi.org/<doi>, whatever form the DOI was given in
        if url is not None:
            return out.link(url)
    url = rec.get("URL")
    return out.link(str(url).strip()) if url else ""


def format_reference(record: dict, style: str = "apa", format: str = "text") -> str:
    """One reference-list entry.

    Parameters
    ----------
    record : Citation or CSL-JSON dict
    style : {"apa"}
        APA 7 (Publication Manual, 7th ed., chapters 9-10).
    format : {"text", "html", "markdown"}

    Notes
    -----
    Patterns (APA 7 sections 10.1-10.16): journal article "Author. (Year). Title. *Journal*,
    *volume*(issue), pages. https://doi.org/..."; book "Author. (Year). *Title* (2nd ed.).
    Publisher. DOI"; chapter "Author. (Year). Title. In E. Editor (Ed.), *Book* (pp. x-y).
    Publisher. DOI"; report "Author. (Year). *Title* (Report No. x). Publisher. URL"; thesis
    "Author. (Year). *Title* [Doctoral dissertation, University]. Database. URL"; web page
    "Author. (Year, Month Day). *Title*. Site. URL". With no author the title moves to the
    author position (section 9.12); a publisher equal to the author is omitted (9.24).
    """
    check_choice("style", style, STYLES)
    fmt = check_choice("format", format, FORMATS)
    out = _Out(fmt)
    rtype = record.get("type") or "document"
    title = str(record.get("title") or "").strip()
    authors = record.get("author") or []
    editors = record.get("editor") or []
    container = str(record.get("container-title") or "").strip()
    publisher = str(record.get("publisher") or "").strip()
    full_date = rtype in ("webpage", "post-weblog", "article-newspaper", "article-magazine", "post")
    date = f"({_date(record, full_date)})."
    italic_title = rtype not in ("article-journal", "article-magazine", "article-newspaper",
                                 "chapter", "paper-conference", "entry-encyclopedia",
                                 "entry-dictionary")
    author_text = author_list(authors) if authors else ""
    if not authors and editors and rtype in ("book", "report"):
        author_text = author_list(editors) + (" (Ed.)." if len(editors) == 1 else " (Eds.).")
        editors = []
    # title with its bracketed/parenthesised descriptions
    in_book = rtype in ("chapter", "paper-conference", "entry-encyclopedia", "entry-dictionary")
    edition = _edition(record.get("edition"))
    desc = []
    if edition and not in_book:
        desc.append(edition)
    if rtype == "report" and record.get("number"):
        desc.append(f"{record.get('genre') or 'Report'} No. {record['number']}")
    title_el = out.italic(title) if italic_title else out.text(title)
    if desc:
        title_el += out.text(f" ({'; '.join(desc)})")
    if rtype == "thesis":
        genre = record.get("genre") or "Doctoral dissertation"
        title_el += out.text(f" [{genre}{', ' + publisher if publisher else ''}]")
    parts = []
    if author_text:
        parts.append(out.text(_end(author_text)))
        parts.append(out.text(date))
        parts.append(_end(title_el) if title else "")
    else:  # no author: the title takes the author position (section 9.12)
        parts.append(_end(title_el) if title else out.text("[Untitled]."))
        parts.append(out.text(date))
    source = ""
    if rtype in ("article-journal", "article-magazine", "article-newspaper", "article"):
        bits = out.italic(container)
        vol, iss = record.get("volume"), record.get("issue")
        if vol:
            bits += (", " if bits else "") + out.italic(str(vol))
        if iss:
            bits += out.text(f"({iss})") if vol else out.text((", " if bits else "") + f"({iss})")
        if record.get("page"):
            bits += out.text((", " if bits else "") + _pages(record["page"]))
        elif record.get("number") and rtype == "article-journal":
            bits += out.text((", " if bits else "") + f"Article {record['number']}")
        source = _end(bits) if bits else ""
    elif in_book:
        bits = "In "
        if editors:
            bits += out.text(_editor_list(editors) + ", ")
        bits += out.italic(container) if container else ""
        paren = [edition] if edition else []
        if record.get("page"):
            paren.append(f"pp. {_pages(record['page'])}")
        if paren:
            bits += out.text(f" ({', '.join(paren)})")
        source = _end(bits) if container or editors else ""
        if publisher and publisher != author_text:
            source += " " + out.text(_end(publisher))
    elif rtype == "thesis":
        archive = record.get("archive") or ""
        source = out.text(_end(archive)) if archive else ""
    elif rtype in ("webpage", "post-weblog", "post"):
        site = container or publisher
        if site and site != author_text:
            source = out.text(_end(site))
    else:  # book, report, dataset, software, document
        if publisher and publisher not in (author_text, _end(author_text)[:-1]):
            source = out.text(_end(publisher))
    parts.append(source)
    parts.append(_doi_or_url(record, out))
    return " ".join(" ".join(p for p in parts if p).split())  # one line, single spaces


def _edition(value) -> str:
    """``2`` -> ``2nd ed.``; first editions are not mentioned (section 10.2)."""
    if value in (None, ""):
        return ""
    ed = str(value).strip()
    if ed in ("1", "1st"):
        return ""
    return f"{_ordinal(ed)} ed." if ed.isdigit() else ed


def _ordinal(n: str) -> str:
    k = int(n)
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _sort_key(record: dict):
    """APA order (section 9.44-9.47): first author's family name letter by letter, then year,
    then title; accents do not change the order."""
    authors = record.get("author") or []
    first = authors[0] if authors else {}
    lead = _inverted(first) if first else str(record.get("title") or "")
    norm = unicodedata.normalize("NFKD", lead).encode("ascii", "ignore").decode().casefold()
    year = _date(record, False)
    return (norm, year == "n.d.", year, str(record.get("title") or "").casefold())


def bibliography(records, format: str = "text", style: str = "apa") -> str:
    """A reference list in APA order.

    Parameters
    ----------
    records : iterable of Citation (or CSL-JSON dicts)
    format : {"text", "html", "markdown"}
        Plain text (one entry per line), Markdown (one paragraph per entry, ``*italics*``) or
        HTML (``<div class="references">`` with one ``<p>`` per entry, hanging indent).
    style : {"apa"}

    Returns
    -------
    str

    Notes
    -----
    Order (APA 7, sections 9.44-9.47): first author's family name, letter by letter, accents
    ignored; then year (undated last), then title.
    """
    fmt = check_choice("format", format, FORMATS)
    entries = [format_reference(r, style, fmt) for r in sorted(records, key=_sort_key)]
    if fmt == "html":
        body = "\n".join(f'  <p style="padding-left: 2em; text-indent: -2em;">{e}</p>'
                         for e in entries)
        return f'<div class="references">\n{body}\n</div>\n'
    if fmt == "markdown":
        return "\n\n".join(entries) + "\n"
    return "\n".join(entries) + "\n"
