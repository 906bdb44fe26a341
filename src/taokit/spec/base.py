"""Base class and field helpers shared by every task's spec schema."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class SpecModel(BaseModel):
    """A spec section: frozen, unknown keys forbidden (the shaper reports them with a close match)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, protected_namespaces=())


def one_of(section: BaseModel, names: tuple[str, ...], what: str, *, required: bool = False) -> None:
    """Sections of which a spec gives at most one (exactly one when `required`): TAO's protobuf `oneof`."""
    given = [n for n in names if getattr(section, n) is not None]
    if len(given) > 1 or (required and not given):
        listed = ", ".join(names[:-1]) + f" or {names[-1]}"
        raise ValueError(f"give {'exactly ' if required else ''}one {what} ({listed})"
                         + (f", found {' and '.join(given)}" if given else ""))


def ignored(default: Any = None, reason: str = "no effect in taokit", **kwargs: Any) -> Any:
    """A TAO field that is accepted for compatibility and reported as ignored when set."""
    if callable(default) and not isinstance(default, type):
        return Field(default_factory=default, json_schema_extra={"ignored": reason}, **kwargs)
    if isinstance(default, type):
        return Field(default_factory=default, json_schema_extra={"ignored": reason}, **kwargs)
    return Field(default=default, json_schema_extra={"ignored": reason}, **kwargs)


class FieldPathError(ValueError):
    """Raised by a cross-section validator to point the error at a field below the model being checked."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


def at_least_one(name: str) -> AfterValidator:
    """Annotated metadata for a repeated section that must appear: `Annotated[list[X], at_least_one("x")]`."""

    def check(value: list[Any]) -> list[Any]:
        if not value:
            raise ValueError(f"at least one {name} block is needed")
        return value

    return AfterValidator(check)


def _bare_extension(value: str) -> str:
    return value.lstrip(".").lower()


Extension = Annotated[str, AfterValidator(_bare_extension)]  # "jpg", ".JPG" -> "jpg"
