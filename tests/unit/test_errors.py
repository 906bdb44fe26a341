"""taokit.errors.first_line: the one line of a library's error that goes into ours."""

import pytest

from taokit.errors import first_line


@pytest.mark.parametrize("err,expected", [
    (RuntimeError("bad node\n  at line 3"), "bad node"),
    (AssertionError(), "AssertionError"),          # a bare assert: no message at all
    (ValueError("\n\n  "), "ValueError"),          # only blank lines
    (RuntimeError("x" * 300), "x" * 160),
])
def test_first_line(err: BaseException, expected: str) -> None:
    assert first_line(err) == expected


def test_first_line_limit() -> None:
    assert first_line(RuntimeError("abcdef"), 3) == "abc"
