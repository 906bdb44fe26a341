"""Domain errors raised by library code; only the CLI edge turns them into messages and exit codes."""

from __future__ import annotations

import difflib

# Messages quote what the user wrote (an override, a label line, a file name); a newline or other control
# character in it would break the one-line contract, so it is shown escaped, as repr() would.
_ESCAPES = {code: repr(chr(code))[1:-1] for code in [*range(32), 127]}


class TaokitError(Exception):
    """Base of every error a user can cause and fix. `str(err)` is the one-line message."""

    exit_code = 2

    def __str__(self) -> str:
        return super().__str__().strip().translate(_ESCAPES)


class SpecError(TaokitError):
    """A spec file or override that does not parse or validate.

    Formats as `file:line:col: dotted.key: reason`, the way compilers report errors.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        key: str = "",
    ) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.col = col
        self.key = key
        super().__init__(self.format())

    def format(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.col is not None:
                    where += f":{self.col}"
            where += ": "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.reason}"


class DataError(TaokitError):
    """Bad or missing dataset content: labels, images, directories."""


class ModelError(TaokitError):
    """A model file that is missing, corrupt, of the wrong kind, or does not fit the task."""


class ExportError(TaokitError):
    """Export, quantization or engine building failed for a reason the user can act on."""


class DependencyError(TaokitError):
    """An optional dependency (TensorRT, a GPU, Docker) is needed and not available."""


class ResultsDirError(TaokitError):
    """The results directory holds files that taokit will not overwrite or mix."""


class NotAvailableYet(TaokitError):
    """An action the CLI knows but the task does not implement yet."""


class UsageError(TaokitError):
    """A command-line combination that cannot work."""


class GateFailed(TaokitError):
    """A quality gate (--min_metric, --max_diff, --min_images_per_s) the result does not pass: the run itself
    worked and its outputs are written, but CI should stop here."""

    exit_code = 3


class DownloadError(TaokitError):
    """A model that cannot be fetched: not found, refused, offline, corrupt, or no space to put it."""


def did_you_mean(name: str, choices: list[str], cutoff: float = 0.6) -> str:
    """` (did you mean 'x'?)` for the closest choice to a misspelt name, or nothing."""
    close = difflib.get_close_matches(name, choices, n=1, cutoff=cutoff)
    return f" (did you mean '{close[0]}'?)" if close else ""


def already_exists(path: object, instead: str) -> ResultsDirError:
    """The refusal to overwrite a user's file: taokit never replaces one silently."""
    return ResultsDirError(f"{path} already exists; pass --force to overwrite it{', or ' + instead if instead else ''}")


def first_line(err: BaseException, limit: int = 160) -> str:
    """The first line of a library's error message, for a one-line error of ours; its type where the message
    is empty (a failed bare `assert`, as in ONNX Runtime's shape inference)."""
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:limit]
