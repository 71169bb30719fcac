"""BibTeX name lists: parsing ``"First von Last"``, ``"von Last, Jr, First"`` into CSL names and
writing them back (Patashnik, *BibTeXing*, 1988, section 4; Markey, *Tame the BeaST*, 2007,
section 11)."""

from __future__ import annotations

import re

from evidence_kit.citations._latex import latex_to_unicode, unicode_to_latex


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


def name_to_bibtex(name: dict) -> str:
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
    if not given and family.startswith("{"):
        return f"{family},"  # "{Xu Min}," is a family name; "{Xu Min}" alone a literal
    return f"{family}, {given}" if given else family


