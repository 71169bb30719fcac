"""The BibTeX tokenizer behind :mod:`evidence_kit.citations.bibtex`: entries with their fields,
``@string`` macros, ``@preamble`` and ``@comment`` skipped, each block's offset for line numbers.

Grammar: Patashnik, *BibTeXing* (1988), sections 2 and 4, as biber and Better BibTeX read it in
practice (``%`` comment lines, ``\\{`` escapes, entries without a key).
"""

from __future__ import annotations

import re

from evidence_kit.citations._text import LineIndex

_ENTRY_START = re.compile(r"@[ \t]*([A-Za-z][\w\-:.+]*)[ \t\r\n]*([{(])?")
_FIELD_NAME = re.compile(r"\s*([^\s=,{}()\"#@%][^=,{}()\"#@%]*?)\s*=\s*")
_KEY = re.compile(r"\s*([^\s,={}]*)\s*")  # biber allows nearly anything in a key
_WORD = re.compile(r"\s*([^\s,#{}()\"=]+)")
_NEXT_ENTRY_LINE = re.compile(r"(?m)^[ \t]*@")
_MONTH_MACROS = {m: m for m in
                 ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]}


class _Syntax(Exception):
    def __init__(self, reason: str, pos: int):
        super().__init__(reason)
        self.reason, self.pos = reason, pos


class Parser:
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
            # the text between the previous block (or the line start) and this '@'
            prefix = text[max(text.rfind("\n", 0, at) + 1, pos):at]
            if prefix.lstrip().startswith("%"):  # a commented-out line (biber, bibtexparser)
                end = text.find("\n", at)
                pos = n if end < 0 else end + 1
                continue
            m = _ENTRY_START.match(text, at)
            if not m or (m.group(2) is None and prefix.strip()):
                pos = at + 1  # '@' in free text, e.g. an e-mail address: not an entry
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
