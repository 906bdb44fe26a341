"""Spec files: protobuf text format and YAML, read into one typed pydantic model per task."""

from taokit.spec.load import load_spec, parse_spec_source, validate_spec

__all__ = ["load_spec", "parse_spec_source", "validate_spec"]
