"""load_spec: shaping, overrides, typed validation and one-line errors, on small purpose-built schemas."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import Field

from taokit.errors import SpecError
from taokit.spec import load_spec
from taokit.spec.base import SpecModel, ignored
from taokit.spec.write import PROTO_ENUM, to_prototext, to_yaml


class Inner(SpecModel):
    radius: float = Field(1.0, ge=0.0, le=1.0)
    name: str = ""


class Root(SpecModel):
    count: int = Field(1, gt=0)
    mode: Annotated[Literal["SAMPLE", "INTEGRATE"], PROTO_ENUM] = "SAMPLE"
    flag: bool = False
    names: list[str] = Field(default_factory=list)
    inner: Inner = Inner()
    per_class: dict[str, Inner] = Field(default_factory=dict)
    mapping: dict[str, str] = Field(default_factory=dict)
    items: list[Inner] = Field(default_factory=list)
    legacy: int = ignored(0, "not used")
    size: int


def write(tmp_path: Path, text: str, name: str = "spec.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_prototext_and_yaml_give_the_same_model(tmp_path: Path) -> None:
    text = """size: 16 count: 3 mode: INTEGRATE flag: true names: "a" names: "b"
    inner { radius: 0.5 }
    per_class { key: "car" value { radius: 0.25 } }
    mapping { key: "van" value: "car" }
    items { name: "x" } items { name: "y" }
    """
    yaml_text = """size: 16
count: 3
mode: INTEGRATE
flag: true
names: [a, b]
inner: {radius: 0.5}
per_class: {car: {radius: 0.25}}
mapping: {van: car}
items: [{name: x}, {name: y}]
"""
    a = load_spec(write(tmp_path, text), Root)
    b = load_spec(write(tmp_path, yaml_text, "spec.yaml"), Root)
    assert a == b
    assert a.per_class["car"].radius == 0.25 and a.mapping == {"van": "car"}
    assert [i.name for i in a.items] == ["x", "y"]


def test_single_repeated_field_is_still_a_list(tmp_path: Path) -> None:
    assert load_spec(write(tmp_path, 'size: 16 names: "only"'), Root).names == ["only"]


def test_enum_by_number_and_bool_spellings(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, "size: 16 mode: 1 flag: True"), Root)
    assert spec.mode == "INTEGRATE" and spec.flag is True


def test_unknown_field_suggests_close_match(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, "size: 16\ninner {\n  raduis: 0.3\n}\n"), Root)
    assert str(info.value) == f"{tmp_path}/spec.txt:3:3: inner: unknown field 'raduis' (did you mean 'radius'?)"


def test_type_error_names_key_value_and_position(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, "size: 16\ncount: many\n"), Root)
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path}/spec.txt:2:1: count: ")
    assert "integer" in msg and "'many'" in msg


def test_range_error_inside_a_map_points_at_the_entry(tmp_path: Path) -> None:
    text = 'size: 16\nper_class {\n  key: "car"\n  value { radius: 3.0 }\n}\n'
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, text), Root)
    assert "per_class.car.radius" in str(info.value)
    assert ":4:" in str(info.value) or ":3:" in str(info.value)


def test_missing_required_field(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"spec.txt:1:1: size: required field is missing"):
        load_spec(write(tmp_path, "count: 2\n"), Root)


def test_bare_word_for_a_string_field_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match='expected a quoted string'):
        load_spec(write(tmp_path, "size: 16 inner { name: car }"), Root)


@pytest.mark.parametrize(("text", "message"), [
    ('size: 16 inner { radius: "0.5" }', r'spec\.txt:1:26: inner\.radius: expected a number, found the string "0\.5"'),
    ('size: "16"', r'size: expected a number, found the string "16" \(protobuf text writes numbers without quotes: 16\)'),
    ("size: 16.0", r"size: expected an integer, found 16\.0"),
    ("size: 4294967296", r"size: 4294967296 is outside the 32-bit range of TAO's integer fields"),
    ("size: -2147483649", r"size: -2147483649 is outside the 32-bit range"),
])
def test_protobuf_text_refuses_what_protobufs_parser_refuses(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_spec(write(tmp_path, text), Root)


def test_the_32_bit_limits_themselves_and_yaml_numbers_in_quotes_load(tmp_path: Path) -> None:
    assert load_spec(write(tmp_path, "size: 4294967295 count: 2147483647"), Root).size == 4294967295
    assert load_spec(write(tmp_path, "size: -2147483648"), Root).size == -2147483648
    yaml_spec = load_spec(write(tmp_path, 'size: "16"\ninner: {radius: "0.5"}\n', "spec.yaml"), Root)
    assert (yaml_spec.size, yaml_spec.inner.radius) == (16, 0.5)  # YAML coerces, as OmegaConf does for TAO 5

def test_overrides_are_typed_and_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "size: 16")
    spec = load_spec(path, Root, ["count=7", "inner.radius=0.1", "per_class.car.radius=0.2", "names=[p, q]"])
    assert spec.count == 7 and spec.inner.radius == 0.1 and spec.per_class["car"].radius == 0.2
    assert spec.names == ["p", "q"]
    with pytest.raises(SpecError, match=r"override 'inner.raduis=1': inner: unknown field 'raduis' \(did you mean"):
        load_spec(path, Root, ["inner.raduis=1"])
    with pytest.raises(SpecError, match=r"override 'count=0': count: input should be greater than 0"):
        load_spec(path, Root, ["count=0"])
    with pytest.raises(SpecError, match="must look like key.path=value"):
        load_spec(path, Root, ["count"])


def test_list_item_override(tmp_path: Path) -> None:
    path = write(tmp_path, 'size: 16 items { name: "x" } items { name: "y" }')
    assert load_spec(path, Root, ["items[1].name=z"]).items[1].name == "z"
    with pytest.raises(SpecError, match="out of range"):
        load_spec(path, Root, ["items[5].name=z"])


def test_ignored_fields_warn_by_name(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        load_spec(write(tmp_path, "size: 16 legacy: 3"), Root)
    assert "legacy is accepted but ignored by taokit: not used" in caplog.text


def test_duplicate_scalar_last_wins_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        spec = load_spec(write(tmp_path, "size: 16 count: 2 count: 5"), Root)
    assert spec.count == 5 and "given 2 times" in caplog.text


def test_yaml_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, "size: 16\ninner: [unclosed\n", "bad.yaml"), Root)
    assert "YAML syntax error" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(SpecError, match="must be a mapping"):
        load_spec(write(tmp_path, "- a\n- b\n", "list.yaml"), Root)


def test_missing_file_and_binary_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.txt", Root)
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SpecError, match="not a text file"):
        load_spec(tmp_path / "bin.txt", Root)


def test_writers_round_trip(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, 'size: 32 mode: INTEGRATE per_class { key: "a" value { radius: 0.5 } }'), Root)
    text = to_prototext(spec)
    assert "mode: INTEGRATE" in text and 'key: "a"' in text and "count" not in text
    assert load_spec(write(tmp_path, text, "rt.txt"), Root) == spec
    assert load_spec(write(tmp_path, to_yaml(spec), "rt.yaml"), Root) == spec
    full = to_prototext(spec, include_defaults=True)
    assert "count: 1" in full and load_spec(write(tmp_path, full, "full.txt"), Root) == spec
