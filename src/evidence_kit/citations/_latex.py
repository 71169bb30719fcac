"""LaTeX text <-> Unicode for BibTeX field values (accents, escapes, protective braces).

Decoding follows the accent and special-character commands of the LaTeX2e font encodings
(Lamport, *LaTeX: A Document Preparation System*, 2nd ed., section 3.2.1 and Table 3.1).
Unknown commands are kept verbatim, so decoding never loses text.
"""

from __future__ import annotations

import html
import re
import unicodedata

# accent command -> combining character (Lamport 1994, Table 3.1)
_ACCENTS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a", "d": "\u0323", "b": "\u0331", "t": "\u0361",
}
_SYMBOLS = {
    "ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å",
    "AA": "Å", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ", "dh": "ð", "DH": "Ð", "th": "þ",
    "TH": "Þ", "ng": "ŋ", "NG": "Ŋ", "dj": "đ", "DJ": "Đ", "textendash": "–", "textemdash": "—",
    "textquoteright": "’", "textquoteleft": "‘", "textquotedblleft": "“",
    "textquotedblright": "”", "textbackslash": "\\", "textasciitilde": "~",
    "textasciicircum": "^", "textunderscore": "_", "S": "§", "P": "¶", "copyright": "©",
    "textcopyright": "©", "textregistered": "®", "texttrademark": "™", "dag": "†", "ddag": "‡",
    "ldots": "…", "dots": "…", "textellipsis": "…", "textdegree": "°", "pounds": "£",
    "euro": "€", "textbullet": "•", "guillemotleft": "«", "guillemotright": "»",
    "textless": "<", "textgreater": ">", "textbar": "|", "textperiodcentered": "·",
    "textonehalf": "½", "texttimes": "×", "textmu": "µ", "textpm": "±", "pm": "±",
    "times": "×", "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε",
    "kappa": "κ", "lambda": "λ", "mu": "μ", "pi": "π", "sigma": "σ", "tau": "τ", "chi": "χ",
    "omega": "ω", "leq": "≤", "geq": "≥", "le": "≤", "ge": "≥", "neq": "≠", "approx": "≈",
}
# formatting commands whose argument is kept and the command dropped
_FORMATTING = {
    "emph", "textit", "textbf", "textsc", "textrm", "textsf", "texttt", "textup", "textsl",
    "textnormal", "mkbibquote", "mkbibemph", "mkbibitalic", "mkbibbold", "enquote", "url",
    "href", "em", "it", "bf", "sc", "rm", "sf", "tt", "bibstring", "textsuperscript",
    "textsubscript", "mbox", "hbox", "relax", "noopsort", "NoCaseChange",
}
_ESCAPED = {"&": "&", "%": "%", "$": "$", "#": "#", "_": "_", "{": "{", "}": "}", " ": " ",
            "\\": " ", ",": " ", ";": " ", "/": "", "-": "", "@": "@"}

_TOKEN = re.compile(
    r"""\\(?P<acc>['`^"~=.])\s*(?:\{\s*(?P<a1>\\[ij](?![A-Za-z])|[^{}\\\s])?\s*\}|(?P<a2>\\[ij](?![A-Za-z])|[^{}\\\s]))"""
    r"""|\\(?P<lacc>[uvHckrdbt])(?:\s*\{\s*(?P<l1>\\[ij](?![A-Za-z])|[^{}\\\s])?\s*\}|\s+(?P<l2>[A-Za-z]))"""
    r"""|\\(?P<name>[A-Za-z]+)(?:(?P<empty>\{\})|[ \t]?)"""
    r"""|\\(?P<esc>.)"""
    r"""|(?P<brace>[{}])"""
    r"""|(?P<tilde>~)""",
    re.DOTALL,
)
_WS = re.compile(r"\s+")


def _base(char: str | None) -> str:
    if not char:
        return ""
    return {"\\i": "ı", "\\j": "ȷ"}.get(char, char)


def _replace(m: re.Match) -> str:
    if m.group("acc") or m.group("lacc"):
        acc = m.group("acc") or m.group("lacc")
        base = _base(m.group("a1") or m.group("a2") or m.group("l1") or m.group("l2"))
        if base in ("ı", "ȷ"):  # dotless i/j take the accent as plain i/j
            base = {"ı": "i", "ȷ": "j"}[base]
        return unicodedata.normalize("NFC", base + _ACCENTS[acc])
    name = m.group("name")
    if name is not None:
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        if name in _FORMATTING:
            return ""
        return m.group(0)  # unknown command: keep verbatim
    esc = m.group("esc")
    if esc is not None:
        return _ESCAPED.get(esc, m.group(0))
    if m.group("tilde"):
        return " "
    return ""  # a protective brace


_ENTITY = re.compile(r"(?<!\\)&(?:[A-Za-z][A-Za-z0-9]{1,7}|#\d{1,6}|#x[0-9A-Fa-f]{1,5});")


def latex_to_unicode(text: str) -> str:
    """Decode LaTeX accents, escapes and protective braces; collapse whitespace.

    HTML entities that exports leave in titles (``&apos;``, ``&amp;``; Web of Science, EBSCO)
    are decoded too; an escaped ``\\&`` is a literal ampersand and never starts an entity.

    >>> latex_to_unicode(r"C{\\'e}sar {\\\"U}ber {DNA} 50\\% \\& more")
    'César Über DNA 50% & more'
    """
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    if "\\" not in text and "{" not in text and "}" not in text and "~" not in text:
        return _WS.sub(" ", text).strip()
    return _WS.sub(" ", _TOKEN.sub(_replace, text)).strip()


_ENCODE = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%",
           "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}",
           "^": r"\textasciicircum{}"}
_ENCODE_RE = re.compile(r"[\\{}&%$#_~^]")


def unicode_to_latex(text: str) -> str:
    """Escape the characters BibTeX treats specially; other Unicode is written as UTF-8.

    ``latex_to_unicode(unicode_to_latex(s)) == s`` for whitespace-normalised ``s``.
    """
    return _ENCODE_RE.sub(lambda m: _ENCODE[m.group(0)], text)


_VERBATIM_RE = re.compile(r"\\([_%&#$~{}])")


def verbatim_to_text(text: str) -> str:
    """Values such as DOI, URL and file paths: drop outer braces and undo ``\\_``-style escapes."""
    text = text.strip()
    while text.startswith("{") and text.endswith("}") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return _VERBATIM_RE.sub(r"\1", text)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return depth == 0
