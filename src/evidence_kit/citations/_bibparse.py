"""The BibTeX tokenizer behind :mod:`evidence_kit.citations.bibtex`: entries with their fields,
``@string`` macros, ``@preamble`` and ``@comment`` skipped, each block's offset for line numbers.

Grammar: Patashnik, *BibTeXing* (1988), sections 2 and 4, as biber and Better BibTeX read it in
practice (``%`` comment lines, ``\\{`` escapes, entries without a key).
"""

from __future__ import annotations

import bisect
import re

from evidence_kit.citations._text import LineIndex

_ENTRY_START = re.compile(r"@[ \t]*([A-Za-z][\w\-:.+]*)[ \t\r\n]*([{(])?")
# greedy name then '=': linear (a lazy name before ``\s*=`` backtracks quadratically on spaces)
_FIELD_NAME = re.compile(r"\s*([^\s=,{}()\"#@%][^=,{}()\"#@%]*)=\s*")
_KEY = re.compile(r"\s*([^\s,={}]*)\s*")  # biber allows nearly anything in a key
_WORD = re.compile(r"\s*([^\s,#{}()\"=]+)")
_NEXT_ENTRY_LINE = re.compile(r"(?m)^[ \t]*@")
# a block start at the beginning of a line: the barrier no value or block runs past
_LINE_START_BLOCK = re.compile(r"(?m)^[ \t]*(@)[ \t]*([A-Za-z][\w\-:.+]*)[ \t\r\n]*[{(]")
# where a block may start: '@type{' / '@type(' anywhere, or any '@' first on its line
_CANDIDATE = re.compile(r"@(?=[ \t]*[A-Za-z][\w\-:.+]*[ \t\r\n]*[{(])|(?m:^)[ \t]*(@)")
_BLANKS = re.compile(r"[ \t]*")
_NOT_ENTRIES = frozenset({"comment", "string", "preamble"})
_BRACE_RUN = re.compile(r"\\.|\{+|\}+", re.DOTALL)  # an escape (skipped) or a run of braces
_QUOTE_RUN = re.compile(r'\\.|\{+|\}+|"', re.DOTALL)
_SPACE_OR_COMMENT = re.compile(r"(?:[ \t\r\n]+|%[^\n]*(?:\n|\Z))*")
_MONTH_MACROS = {m: m for m in
                 ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]}


class _Syntax(Exception):
    def __init__(self, reason: str, pos: int):
        super().__init__(reason)
        self.reason, self.pos = reason, pos


class Parser:
    """Blocks of ``text`` in order. Every entry start at the beginning of a line (``@type{`` or
    ``@type(``) is a barrier: no value, entry or ``@comment`` extends past it, so a brace left
    open by mistake costs one entry (reported), never the entries after it."""

    def __init__(self, text: str, file: str | None):
        self.text, self.file = text, file
        self.lines = LineIndex(text)
        self.macros: dict[str, str] = dict(_MONTH_MACROS)
        self._cached = (0, -1)
        self.barriers: list[int] = []  # offsets of the '@' of every block start at a line start
        self.entry_starts: list[int] = []  # the same, for entries (not comment/string/preamble)
        for m in _LINE_START_BLOCK.finditer(text):
            self.barriers.append(m.start(1))
            if m.group(2).lower() not in _NOT_ENTRIES:
                self.entry_starts.append(m.start(1))

    def _limit(self, pos: int) -> int:
        """The first barrier after ``pos`` (or the end of the text)."""
        lo, hi = self._cached  # the answer for the last block: most calls fall inside it
        if lo <= pos < hi:
            return hi
        i = bisect.bisect_right(self.barriers, pos)
        hi = self.barriers[i] if i < len(self.barriers) else len(self.text)
        self._cached = (self.barriers[i - 1] if i else 0, hi)
        return hi

    def _runs_into(self, limit: int, what: str, pos: int) -> _Syntax:
        if limit < len(self.text):
            return _Syntax(f"{what} never closed before the entry at line {self.lines.line(limit)} "
                           "(unbalanced braces?)", pos)
        return _Syntax(f"{what} never closed before the end of the file", pos)

    # --- values -------------------------------------------------------------------------
    def _braced(self, pos: int) -> tuple[str, int]:
        """``pos`` at ``{``; returns the inner text and the position after the closing brace.

        ``\\{`` and ``\\}`` are escapes and do not count (as biber and Better BibTeX read them).
        """
        text, depth = self.text, 0
        limit = self._limit(pos)
        for m in _BRACE_RUN.finditer(text, pos, limit):  # runs: '{{{{' is one step
            run = m.group()
            if run[0] == "{":
                depth += len(run)
            elif run[0] == "}":
                if len(run) >= depth:
                    close = m.start() + depth - 1
                    return text[pos + 1:close], close + 1
                depth -= len(run)
        raise self._runs_into(limit, "unbalanced braces: value", pos)

    def _quoted(self, pos: int) -> tuple[str, int]:
        text, depth = self.text, 0
        limit = self._limit(pos)
        for m in _QUOTE_RUN.finditer(text, pos + 1, limit):
            run = m.group()
            if run[0] == "{":
                depth += len(run)
            elif run[0] == "}":
                if len(run) > depth:
                    raise _Syntax("unbalanced '}' inside a quoted value", m.start() + depth)
                depth -= len(run)
            elif run == '"' and depth == 0:
                return text[pos + 1:m.start()], m.end()
        raise self._runs_into(limit, 'quoted value ("...")', pos)

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
        return _SPACE_OR_COMMENT.match(self.text, pos).end()

    # --- blocks -------------------------------------------------------------------------
    def entries(self):
        """Yield ``("entry", type, key, fields, start)`` or ``("error", reason, pos, key, start)``.

        ``start`` is the offset of the block's ``@``. Work is linear in the text: each '@' is
        looked at once, and a value or block never scans past the next barrier.
        """
        text, pos, n = self.text, 0, len(self.text)
        while pos < n:
            direct = _BLANKS.match(text, pos).end()
            if direct < n and text[direct] == "@":  # a block right after the previous one
                at, prefix = direct, ""
            else:  # skip free text, '@' in e-mail addresses and the like, in one search
                cand = _CANDIDATE.search(text, pos)
                if cand is None:
                    return
                at = cand.start(1) if cand.group(1) is not None else cand.start()
                # the text between the previous block (or the line start) and this '@'
                prefix = text[max(text.rfind("\n", pos, at) + 1, pos):at].strip()
                if prefix.startswith("%"):  # a commented-out line (biber, bibtexparser)
                    end = text.find("\n", at)
                    pos = n if end < 0 else end + 1
                    continue
            m = _ENTRY_START.match(text, at)
            if not m or (m.group(2) is None and prefix):
                pos = at + 1  # '@' in free text, e.g. an e-mail address: not an entry
                continue
            kind, delim = m.group(1).lower(), m.group(2)
            if kind == "comment":
                pos, problem = self._comment_end(at, m.end() - 1, delim)
                if problem is not None:
                    yield ("error", problem, at, None, at)
                continue
            if delim is None:
                yield ("error", f"@{m.group(1)} has no opening brace", at, None, at)
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
                # an error found at or past the next entry belongs to this one: name its start
                where = exc.pos if exc.pos < self._limit(at) else at
                yield ("error", exc.reason, where, key, at)
                nxt = _NEXT_ENTRY_LINE.search(text, m.end())
                pos = n if nxt is None else nxt.start()

    def _comment_end(self, at: int, pos: int, delim: str | None) -> tuple[int, str | None]:
        """Where an ``@comment`` ends, and a problem when it runs into an entry.

        A braced (or parenthesised) comment ends at its closing delimiter; when it is not closed
        before the next entry start, only its own line is a comment and the entries after it
        are read (and the problem reported, since it may be an entry commented out on purpose).
        """
        text, n = self.text, len(self.text)
        end_of_line = text.find("\n", at)
        line_end = n if end_of_line < 0 else end_of_line + 1
        if delim not in ("{", "("):
            return line_end, None
        limit = self._limit(pos)
        try:
            end = self._block_end(pos, delim)
        except _Syntax:
            if limit < n:
                return line_end, (f"@comment not closed before the entry at line "
                                  f"{self.lines.line(limit)}: only its first line is skipped")
            return line_end, None
        return end, None

    def _block_end(self, pos: int, delim: str) -> int:
        if delim == "{":
            return self._braced(pos)[1]
        close = self.text.find(")", pos, self._limit(pos))
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
        limit = self._limit(start)
        km = _KEY.match(text, pos, limit)
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
            if pos >= limit:
                if limit < n:
                    raise _Syntax(f"entry not closed with {close!r} before the entry at line "
                                  f"{self.lines.line(limit)}", start)
                raise _Syntax(f"entry not closed with {close!r} before the end of the file", start)
            ch = text[pos]
            if ch == close:
                return ("entry", etype, key, fields, start), pos + 1
            if ch == ",":
                pos += 1
                continue
            fm = _FIELD_NAME.match(text, pos, limit)
            if not fm:
                raise _Syntax(f"expected 'field = value' or {close!r}, found "
                              f"{text[pos:pos + 30]!r}", pos)
            value, pos = self._value(fm.end())
            fields.append((fm.group(1).strip().lower(), value))
            pos = self._skip_ws(pos)
            if pos < n and text[pos] not in ("," + close):
                raise _Syntax(f"expected ',' or {close!r} after field {fm.group(1).strip()!r}, "
                              f"found {text[pos:pos + 30]!r}", pos)
