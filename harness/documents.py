"""Users' YAML and JSON files: read safely (size cap, UTF-8, no aliases, one mapping), errors described.

Ladder files and prediction files both come from users, so both go through
here. ``yaml.safe_load`` builds no arbitrary objects but still expands aliases,
so a few hundred bytes of nested aliases can expand to gigabytes (the
"billion laughs" bomb); aliases are refused before anything is built.
``describe_error`` turns one pydantic error into one line: where, what, the fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict

from harness.errors import UserError, did_you_mean

MAX_FILE_BYTES = 1_000_000


class Strict(BaseModel):
    """Base of every model of a file users write: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def invalid_file(label: str, path: Path, problems: list[str]) -> UserError:
    """One error listing every problem of a user's file: "Ladder file 'x' is invalid (2 problems):" and a line each."""
    lines = "\n".join(f"  - {p}" for p in problems)
    return UserError(f"{label} '{path}' is invalid ({len(problems)} problem{'s' * (len(problems) > 1)}):\n{lines}")


def read_mapping(path: Path, label: str, keys_hint: str) -> dict[str, Any]:
    """The top-level mapping of the YAML (or, for ``.json``, JSON) file at ``path``.

    ``label`` names the kind of file in messages ("Ladder file"); ``keys_hint``
    lists the keys a valid file has, for the message when it holds no mapping.
    """
    if not path.is_file():
        raise UserError(f"{label} '{path}' does not exist or is not a file.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserError(f"{label} '{path}' is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes.")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{label} '{path}' is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8."
        ) from None
    if not text.strip():
        raise UserError(f"{label} '{path}' is empty; it must hold a mapping of keys ({keys_hint}).")
    raw = _parse_json(path, label, text) if path.suffix.lower() == ".json" else _parse_yaml(path, label, text)
    if not isinstance(raw, dict):
        raise UserError(f"{label} '{path}' must hold a mapping of keys ({keys_hint}), not {type(raw).__name__}.")
    return raw


def _parse_json(path: Path, label: str, text: str) -> Any:
    def refuse_constant(name: str) -> None:
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        return json.loads(text, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{label} '{path}' is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}. Fix the syntax "
            "there."
        ) from None
    except ValueError as exc:
        raise UserError(f"{label} '{path}': {exc}; write a finite number instead.") from None


def _parse_yaml(path: Path, label: str, text: str) -> Any:
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                raise UserError(
                    f"{label} '{path}' uses a YAML alias (*{event.anchor}) at line {mark.line + 1}, column "
                    f"{mark.column + 1}; aliases are not allowed, write the value out in full."
                )
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise UserError(
            f"{label} '{path}' is not valid YAML{at}: {getattr(exc, 'problem', exc)}. Fix the syntax there."
        ) from None


def describe_error(err: Any, model: type[BaseModel], prefix: str = "") -> str:
    """One line for one pydantic error of ``model``: where, what, and how to fix it."""
    loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"]).replace(".[", "[")
    loc = ".".join(x for x in (prefix, loc) if x) or "(top level)"
    if err["type"] == "extra_forbidden":
        allowed = fields_at(model, err["loc"][:-1])
        key = str(err["loc"][-1])
        return f"{loc}: unknown key.{did_you_mean(key, allowed)} Allowed keys here: {', '.join(allowed)}."
    if err["type"] == "missing":
        return f"{loc}: required key is missing; add it."
    msg = err["msg"].removeprefix("Value error, ")
    given = err.get("input")
    shown = "" if isinstance(given, (dict, list)) or given is None else f" (got {given!r})"
    return f"{loc}: {msg}{shown}."


def fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) model that ``loc`` points into, through lists and dict values."""
    node: Any = model
    for part in loc:
        if get_origin(node) in (list, dict):
            node = get_args(node)[-1]  # a list index or a dict key: step into the element type
        elif isinstance(node, type) and issubclass(node, BaseModel):
            node = getattr(node.model_fields.get(str(part)), "annotation", None)
        else:
            return []
    if not (isinstance(node, type) and issubclass(node, BaseModel)):
        return []
    return [name for name in node.model_fields if name != "d_vocab"]
