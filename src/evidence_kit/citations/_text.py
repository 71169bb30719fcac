"""Decoding files (BOM, UTF-8, Latin-1 fallback), line numbers, shared small parsers."""

from __future__ import annotations

import bisect
import re
import warnings
from pathlib import Path

_BOMS = [(b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")]
LINE_BREAK = re.compile(r"\r\n|\r|\n")


class EncodingFallbackWarning(UserWarning):
    """A file was not valid UTF-8 and was decoded as Latin-1 (cp1252) instead."""


def decode_bytes(raw: bytes, name: str | None = None, encoding: str | None = None) -> str:
    """Decode a citation file: an explicit ``encoding``; else a BOM; else UTF-8; else Latin-1.

    The Latin-1 fallback (Windows-1252, a superset of ISO 8859-1 for printable characters, which
    is what reference managers on Windows write) warns with the file name and the first byte
    that is not UTF-8, so a wrong guess is visible; pass ``encoding=`` to choose.
    """
    if encoding is not None:
        return raw.decode(encoding).removeprefix("\ufeff")  # a BOM is never content
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(enc)
            except UnicodeDecodeError:
                if enc != "utf-8-sig":
                    raise
                raw = raw[len(bom):]  # a UTF-8 BOM, then bytes that are not UTF-8: fall back
                break
            return text[1:] if text.startswith("\ufeff") else text
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        warnings.warn(
            f"{name or '<bytes>'}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at line {line}); "
            "decoded as Latin-1 (cp1252). Pass encoding=... if that is wrong.",
            EncodingFallbackWarning,
            stacklevel=3,
        )
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def read_text(path, encoding: str | None = None) -> str:
    path = Path(path)
    return decode_bytes(path.read_bytes(), str(path), encoding)


def split_lines(text: str) -> list[str]:
    """Split on CRLF, CR or LF only (``str.splitlines`` also splits on U+2028, FF, ...)."""
    lines = LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def unaccounted(starts, accounted) -> list:
    """The final pass of every reader: the entry starts (lines or offsets) that ended as neither
    a record nor a failure. Empty unless a reader has a bug; each one left becomes a failure."""
    return [s for s in starts if s not in accounted]


class LineIndex:
    """Map a character offset in ``text`` to its 1-based line number."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in LINE_BREAK.finditer(text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


_MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december"]


def month_number(text) -> int | None:
    """1..12 from ``3``, ``"03"``, ``"Mar"``, ``"march"``; ``None`` when not a month."""
    if text is None:
        return None
    s = str(text).strip().rstrip(".").lower()
    if s.isdigit():
        m = int(s)
        return m if 1 <= m <= 12 else None
    if s == "sept":
        return 9
    if len(s) >= 3:
        for i, full in enumerate(_MONTH_NAMES, 1):
            if full.startswith(s):
                return i
    return None


_DATE_RE = re.compile(r"^(-?\d{1,4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?$")
_EDTF_RE = re.compile(r"^(-?\d{1,4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def _date_parts(m: re.Match) -> list[int] | None:
    parts = [int(g) for g in m.groups() if g is not None]
    # months 1-12, or seasons as CSL (13-16) and EDTF (21-24) write them
    if len(parts) >= 2 and not (1 <= parts[1] <= 16 or 21 <= parts[1] <= 24):
        return None
    if len(parts) == 3 and not (parts[1] <= 12 and 1 <= parts[2] <= 31):
        return None
    return parts


def parse_date(text: str) -> dict | None:
    """``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` (or with ``/``), and EDTF ranges
    ``YYYY-MM-DD/YYYY-MM-DD`` (biblatex manual, section 2.3.8) -> CSL date; ``None`` otherwise."""
    text = text.strip()
    if text.count("/") == 1:
        first, _, second = text.partition("/")
        a, b = _EDTF_RE.match(first.strip()), _EDTF_RE.match(second.strip())
        if a and b and _date_parts(a) and _date_parts(b):
            return {"date-parts": [_date_parts(a), _date_parts(b)]}
    m = _DATE_RE.match(text)
    parts = _date_parts(m) if m else None
    return {"date-parts": [parts]} if parts else None


def date_to_text(issued: dict | None) -> str | None:
    """Inverse of :func:`parse_date` for a single CSL date; literal/raw dates as they are."""
    if not isinstance(issued, dict):
        return None
    if "raw" in issued:
        return str(issued["raw"])
    if "literal" in issued:
        return str(issued["literal"])
    parts = issued.get("date-parts")
    if not parts or not parts[0]:
        return None
    first = parts[0]
    def one(date):
        return "-".join([str(date[0])] + [f"{int(p):02d}" for p in date[1:3] if p not in (None, "")])

    text = one(first)
    if len(parts) > 1 and parts[1]:
        text += "/" + one(parts[1])
    return text


_INITIALS = re.compile(r"(?:[A-Z]\.(?:-?[A-Z]\.)*|[A-Z]{1,3})")


def _is_cjk(word: str) -> bool:
    """Han, Hiragana, Katakana or Hangul only (names written family name first)."""
    return all("\u3040" <= c <= "\u30ff" or "\u3400" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af"
               or "\uf900" <= c <= "\ufaff" for c in word)


def split_name(text: str, *, suffix_last: bool = False) -> dict:
    """``"Family, Given"`` / ``"Family, Suffix, Given"`` / ``"Given Family"`` -> CSL name.

    ``suffix_last``: three parts are ``"Family, Given, Suffix"`` (the RIS order) instead of
    BibTeX's ``"Family, Suffix, Given"``.
    """
    text = text.strip()
    if not text:
        return {"literal": ""}
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > 3:  # a list squeezed into one name field: keep it whole
        return {"literal": text}
    if len(parts) == 1:
        words = text.split()
        if len(words) == 1:
            return {"family": text}
        if all(_is_cjk(w) for w in words):  # "熊 玮": Chinese, Japanese, Korean put the family first
            return {"family": words[0], "given": " ".join(words[1:])}
        if _INITIALS.fullmatch(words[-1]):  # "Faraj K." / "Adler D.G." (Embase, Scopus)
            return {"family": " ".join(words[:-1]), "given": words[-1]}
        return {"family": words[-1], "given": " ".join(words[:-1])}
    name = {"family": parts[0]}
    if len(parts) >= 3 and suffix_last:
        given = parts[1]
        name["suffix"] = ", ".join(parts[2:])
    elif len(parts) >= 3:
        name["suffix"] = parts[1]
        given = ", ".join(parts[2:])
    else:
        given = parts[1]
    if given:
        name["given"] = given
    return name


def name_to_text(name: dict, *, suffix_last: bool = False) -> str:
    """CSL name -> ``"Family, Given"`` (``"Family, Suffix, Given"``, or with ``suffix_last``
    ``"Family, Given, Suffix"``; literal as is)."""
    if "literal" in name:  # "World Health Organization," reads back as one family name
        literal = str(name["literal"])
        return literal + "," if " " in literal and "," not in literal else literal
    family = " ".join(p for p in (name.get("non-dropping-particle"), name.get("family")) if p)
    if name.get("dropping-particle"):
        family = f"{name['dropping-particle']} {family}"
    bits = [family]
    if " " in family and not name.get("given") and not name.get("suffix"):
        return family + ","  # "van der Berg," stays one family name when read back
    if suffix_last:
        if name.get("given") or name.get("suffix"):
            bits.append(name.get("given", ""))
        if name.get("suffix"):
            bits.append(name["suffix"])
        return ", ".join(bits)
    if name.get("suffix"):
        bits.append(name["suffix"])
    if name.get("given"):
        bits.append(name["given"])
    elif name.get("suffix"):
        bits.append("")
    return ", ".join(bits)
