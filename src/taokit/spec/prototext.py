"""Protobuf text format reader that keeps line:col for every value (TAO's spec files).

Covers what TAO specs use and what `text_format.Merge` accepts in them: `#` comments,
`field: value`, `field { ... }`, `field: { ... }`, `<...>` blocks, repeated fields, `[a, b]` lists,
maps as repeated `{ key: ... value: ... }` blocks, enums as bare identifiers, quoted strings with
escapes (adjacent strings concatenate), ints, floats with exponents, inf/nan, booleans, and optional
`,` or `;` separators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taokit.errors import SpecError
from taokit.spec.nodes import Entry, Loc, Message, Node, Scalar, Sequence

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+|\n)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?)(?![A-Za-z_0-9]))
  | (?P<ident>[-+]?[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<unterminated>["'][^\n]*)
  | (?P<punct>[{}<>\[\]:,;])
    """,
    re.VERBOSE,
)

_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a",
                   "b": "\b", "f": "\f", "v": "\v", "?": "?"}
_CLOSERS = {"{": "}", "<": ">"}


@dataclass
class _Token:
    kind: str
    text: str
    loc: Loc


def _tokenize(text: str, file: str | None) -> list[_Token]:
    tokens: list[_Token] = []
    line, line_start, pos = 1, 0, 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        col = pos - line_start + 1
        if m is None:
            raise SpecError(f"unexpected character {text[pos]!r}", file=file, line=line, col=col)
        kind = m.lastgroup or ""
        if kind == "ws" and m.group() == "\n":
            line, line_start = line + 1, m.end()
        elif kind == "unterminated":
            raise SpecError("unterminated string", file=file, line=line, col=col)
        elif kind not in ("ws", "comment"):
            tokens.append(_Token(kind, m.group(), Loc(line, col)))
        pos = m.end()
    tokens.append(_Token("eof", "", Loc(line, pos - line_start + 1)))
    return tokens


def _unescape(body: str, loc: Loc, file: str | None) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt in "xX":
            m = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2 :])
            if not m:
                raise SpecError("bad \\x escape in string", file=file, line=loc.line, col=loc.col)
            out.append(chr(int(m.group(), 16)))
            i += 2 + len(m.group())
        elif nxt.isdigit():
            m = re.match(r"[0-7]{1,3}", body[i + 1 :])
            digits = m.group() if m else nxt
            out.append(chr(int(digits, 8)))
            i += 1 + len(digits)
        else:
            raise SpecError(f"unknown escape '\\{nxt}' in string", file=file, line=loc.line, col=loc.col)
    return "".join(out)


def _number(text: str) -> int | float:
    t = text.rstrip("fF") if not text.lower().startswith(("0x", "-0x", "+0x")) else text
    if re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+", t):
        return int(t, 16)
    if re.fullmatch(r"[-+]?\d+", t):
        return int(t)
    return float(t)


class _Parser:
    def __init__(self, text: str, file: str | None) -> None:
        self.file = file
        self.tokens = _tokenize(text, file)
        self.pos = 0

    def _peek(self) -> _Token:
        return self.tokens[self.pos]

    def _next(self) -> _Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def _fail(self, reason: str, tok: _Token) -> SpecError:
        return SpecError(reason, file=self.file, line=tok.loc.line, col=tok.loc.col)

    def parse(self) -> Message:
        entries = self._entries(closer=None)
        return Message(entries, Loc(1, 1), kv_maps=True)

    def _entries(self, closer: str | None) -> list[Entry]:
        entries: list[Entry] = []
        while True:
            tok = self._peek()
            if tok.kind == "eof":
                if closer is not None:
                    raise self._fail(f"unexpected end of file: missing '{closer}'", tok)
                return entries
            if tok.kind == "punct" and tok.text == closer:
                self._next()
                return entries
            if tok.kind == "punct" and tok.text in ",;":
                self._next()
                continue
            entries.append(self._entry())

    def _entry(self) -> Entry:
        name_tok = self._next()
        if name_tok.kind == "punct" and name_tok.text == "[":
            raise self._fail("extension and Any fields ([...]) are not supported in spec files", name_tok)
        if name_tok.kind != "ident" or name_tok.text[0] in "+-":
            raise self._fail(f"expected a field name, found {name_tok.text or 'end of file'!r}", name_tok)
        tok = self._peek()
        if tok.kind == "punct" and tok.text == ":":
            self._next()
            value = self._value(name_tok)
        elif tok.kind == "punct" and tok.text in _CLOSERS:
            value = self._block()
        else:
            found = tok.text or "end of file"
            raise self._fail(f"expected ':' or '{{' after field '{name_tok.text}', found {found!r}", tok)
        return Entry(name_tok.text, value, name_tok.loc)

    def _block(self) -> Message:
        open_tok = self._next()
        entries = self._entries(closer=_CLOSERS[open_tok.text])
        return Message(entries, open_tok.loc, kv_maps=True)

    def _value(self, name_tok: _Token) -> Node:
        tok = self._peek()
        if tok.kind == "punct" and tok.text in _CLOSERS:
            return self._block()
        if tok.kind == "punct" and tok.text == "[":
            return self._list()
        return self._scalar(name_tok)

    def _list(self) -> Sequence:
        open_tok = self._next()
        items: list[Node] = []
        while True:
            tok = self._peek()
            if tok.kind == "punct" and tok.text == "]":
                self._next()
                return Sequence(items, open_tok.loc)
            if tok.kind == "eof":
                raise self._fail("unexpected end of file: missing ']'", tok)
            if items:
                if not (tok.kind == "punct" and tok.text == ","):
                    raise self._fail(f"expected ',' or ']' in list, found {tok.text!r}", tok)
                self._next()
                tok = self._peek()
            items.append(self._block() if tok.kind == "punct" and tok.text in _CLOSERS else self._scalar(tok))

    def _scalar(self, name_tok: _Token) -> Scalar:
        tok = self._next()
        if tok.kind == "string":
            parts = [_unescape(tok.text[1:-1], tok.loc, self.file)]
            while self._peek().kind == "string":
                nxt = self._next()
                parts.append(_unescape(nxt.text[1:-1], nxt.loc, self.file))
            return Scalar("".join(parts), "string", tok.loc)
        if tok.kind == "number":
            return Scalar(_number(tok.text), "number", tok.loc)
        if tok.kind == "ident":
            word = tok.text.lstrip("+")
            low = word.lower()
            if low in ("inf", "infinity", "-inf", "-infinity", "nan", "-nan"):
                return Scalar(float(low.replace("infinity", "inf")), "number", tok.loc)
            return Scalar(word, "ident", tok.loc)
        found = tok.text or "end of file"
        raise self._fail(f"expected a value for field '{name_tok.text}', found {found!r}", tok)


def parse_prototext(text: str, file: str | None = None) -> Message:
    """Parse protobuf text format into a located source tree.

    Raises:
        SpecError: on a syntax error, naming the line and column.
    """
    return _Parser(text, file).parse()
