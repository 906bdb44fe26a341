"""YAML reader that keeps line:col for every value, producing the same source tree as prototext."""

from __future__ import annotations

import yaml

from taokit.errors import SpecError, first_line
from taokit.spec.nodes import Entry, Loc, Message, Node, Scalar, Sequence


def _loc(node: yaml.Node) -> Loc:
    return Loc(node.start_mark.line + 1, node.start_mark.column + 1)


def _convert(node: yaml.Node, loader: yaml.SafeLoader, file: str | None) -> Node:
    if isinstance(node, yaml.MappingNode):
        entries = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise SpecError("mapping keys must be plain names", file=file, **_lc(key_node))
            entries.append(Entry(str(key_node.value), _convert(value_node, loader, file), _loc(key_node)))
        return Message(entries, _loc(node), kv_maps=False)
    if isinstance(node, yaml.SequenceNode):
        return Sequence([_convert(item, loader, file) for item in node.value], _loc(node))
    value = loader.construct_object(node, deep=True)
    if value is None:
        kind = "null"
    elif isinstance(value, bool):
        kind = "bool"
    elif isinstance(value, (int, float)):
        kind = "number"
    else:
        kind = "string"
        value = str(value)
    return Scalar(value, kind, _loc(node))


def _lc(node: yaml.Node) -> dict[str, int]:
    loc = _loc(node)
    return {"line": loc.line, "col": loc.col}


def parse_yaml(text: str, file: str | None = None) -> Message:
    """Parse a YAML spec into a located source tree whose root is a mapping.

    Raises:
        SpecError: on a YAML syntax error or a root that is not a mapping.
    """
    try:  # the reader rejects control characters as soon as the loader is made; tags fail on construction
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
        if root is None:
            return Message([], Loc(1, 1), kv_maps=False)
        converted = _convert(root, yaml.SafeLoader(""), file)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        reason = (err.problem or err.context or "invalid YAML").strip()
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        raise SpecError(f"YAML syntax error: {reason}", file=file, line=line, col=col) from None
    except yaml.YAMLError as err:
        raise SpecError(f"YAML error: {first_line(err)}", file=file) from None
    if not isinstance(converted, Message):
        raise SpecError("a spec must be a mapping of sections", file=file, line=1, col=1)
    return converted
