"""The protobuf text reader: syntax TAO specs use, and errors that point at line and column."""

from __future__ import annotations

import pytest

from taokit.errors import SpecError
from taokit.spec.nodes import Message, Scalar, Sequence
from taokit.spec.prototext import parse_prototext


def values(msg: Message) -> dict[str, object]:
    out: dict[str, object] = {}
    for e in msg.entries:
        v = e.value
        out.setdefault(e.name, []).append(v.value if isinstance(v, Scalar) else v)  # type: ignore[union-attr]
    return out


def test_scalars_of_every_kind() -> None:
    msg = parse_prototext(
        'a: 1\nb: -2.5e-3\nc: "x\\ty\\"z"\nd: true\ne: DBSCAN\nf: .5\ng: 1e5\nh: inf\ni: 0x1F\nj: 3f\n'
    )
    v = values(msg)
    assert v["a"] == [1] and isinstance(v["a"][0], int)
    assert v["b"] == [-2.5e-3]
    assert v["c"] == ['x\ty"z']
    assert v["d"] == ["true"] and msg.entries[3].value.kind == "ident"
    assert v["e"] == ["DBSCAN"]
    assert v["f"] == [0.5] and v["g"] == [1e5] and v["h"] == [float("inf")] and v["i"] == [31] and v["j"] == [3.0]


def test_blocks_separators_comments_and_repeats() -> None:
    text = """
    # comment line
    outer {           # trailing comment
      inner: { x: 1, y: 2; }
      inner < x: 3 >
      tag: "a" tag: 'b'
    }
    list: [1, 2, 3]
    joined: "ab" "cd"
    """
    msg = parse_prototext(text)
    outer = msg.entries[0].value
    assert isinstance(outer, Message)
    inner = [e for e in outer.entries if e.name == "inner"]
    assert len(inner) == 2
    assert [e.value.value for e in outer.entries if e.name == "tag"] == ["a", "b"]
    lst = msg.entries[1].value
    assert isinstance(lst, Sequence) and [i.value for i in lst.items] == [1, 2, 3]
    assert msg.entries[2].value.value == "abcd"


def test_map_blocks_keep_key_value_entries() -> None:
    msg = parse_prototext('m { key: "car" value { r: 0.5 } }\nm { key: "van" value: "car" }')
    assert [e.name for e in msg.entries] == ["m", "m"]
    first = msg.entries[0].value
    assert [e.name for e in first.entries] == ["key", "value"]


def test_locations_are_one_based_line_and_column() -> None:
    msg = parse_prototext("a: 1\n  b {\n    c: 2\n  }\n")
    b = msg.entries[1]
    assert (b.loc.line, b.loc.col) == (2, 3)
    c = b.value.entries[0]
    assert (c.loc.line, c.loc.col) == (3, 5)
    assert (c.value.loc.line, c.value.loc.col) == (3, 8)


@pytest.mark.parametrize(
    ("text", "line", "col", "words"),
    [
        ("a {\n b: 1\n", 3, 1, "missing '}'"),
        ("a: 1\nb 2\n", 2, 3, "expected ':' or '{'"),
        ("a: \"open\n", 1, 4, "unterminated string"),
        ("a: 1\n}\n", 2, 1, "expected a field name"),
        ("a: [1, 2\n", 2, 1, "missing ']'"),
        ("a: @\n", 1, 4, "unexpected character"),
        ("a:\n", 2, 1, "expected a value"),
    ],
)
def test_syntax_errors_name_line_and_column(text: str, line: int, col: int, words: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_prototext(text, "spec.txt")
    err = info.value
    assert (err.line, err.col) == (line, col)
    assert words in str(err)
    assert str(err).startswith(f"spec.txt:{line}:{col}: ")
    assert "\n" not in str(err)
