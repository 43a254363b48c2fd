"""A module's configuration form, generated from its msgspec schema (Manifest.config): one field per value, a
fieldset per nested object, a JSON box for anything free-form. The form's values go back through the registry's
check_config, so the console accepts exactly what the API accepts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import inspect as mi

__all__ = ("Field", "config_fields", "config_from_form", "conversion_errors", "field_errors")


@dataclass
class Field:
    """One input of the form: its name (the wire path, dotted), label, widget and current value."""

    name: str
    label: str
    widget: str  # checkbox, number, text, select, checkboxes, lines, json, group
    value: Any = None
    choices: list[str] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    optional: bool = False


def _unwrap(t: mi.Type) -> tuple[mi.Type, bool]:
    if isinstance(t, mi.UnionType):
        rest = [x for x in t.types if not isinstance(x, mi.NoneType)]
        if len(rest) == 1:
            return rest[0], True
    return t, False


def _literal_values(t: mi.Type) -> list[str] | None:
    if isinstance(t, mi.LiteralType) and all(isinstance(v, str) for v in t.values):
        return [str(v) for v in t.values]
    return None


def _field(name: str, label: str, t: mi.Type, value: Any) -> Field:
    t, optional = _unwrap(t)
    if isinstance(t, mi.BoolType):
        return Field(name, label, "checkbox", bool(value), optional=optional)
    if isinstance(t, (mi.IntType, mi.FloatType)):
        return Field(name, label, "number", value, optional=optional)
    if isinstance(t, mi.StrType):
        return Field(name, label, "text", value, optional=optional)
    if (choices := _literal_values(t)) is not None:
        return Field(name, label, "select", value, choices=choices, optional=optional)
    if isinstance(t, (mi.ListType, mi.SetType)):
        item, _ = _unwrap(t.item_type)
        if (choices := _literal_values(item)) is not None:
            return Field(name, label, "checkboxes", list(value or []), choices=choices, optional=optional)
        if isinstance(item, mi.StrType):
            return Field(name, label, "lines", "\n".join(value or []), optional=optional)
    if isinstance(t, mi.StructType):
        values = value if isinstance(value, dict) else {}
        return Field(name, label, "group", None, optional=optional, children=[
            _field(f"{name}.{f.encode_name}", f.encode_name, f.type, values.get(f.encode_name)) for f in t.fields])
    return Field(name, label, "json", "" if value is None else json.dumps(value, ensure_ascii=False, indent=2),
                 optional=optional)


def config_fields(schema: type[msgspec.Struct] | None, config: dict[str, Any]) -> list[Field]:
    """The form's fields for a module's configuration schema, filled with the office's current values (a module
    without a schema takes any object: one JSON box)."""
    if schema is None:
        return [Field("config", "config", "json", json.dumps(config, ensure_ascii=False, indent=2))]
    info = mi.type_info(schema)
    assert isinstance(info, mi.StructType)
    return [_field(f.encode_name, f.encode_name, f.type, config.get(f.encode_name)) for f in info.fields]


class FormError(Exception):
    """A value the form could not even read (JSON that does not parse, a number that is not one)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name, self.message = name, message


def _value(f: Field, form: dict[str, list[str]]) -> Any:
    raw = form.get(f.name, [])
    first = raw[0].strip() if raw else ""
    if f.widget == "group":
        values = {c.name.rsplit(".", 1)[-1]: v for c in f.children if (v := _value(c, form)) is not None}
        return values or None if f.optional else values
    if f.widget == "checkbox":
        return bool(raw)
    if f.widget == "checkboxes":
        return [v for v in raw if v] or (None if f.optional else [])
    if f.widget == "lines":
        lines = [line.strip() for line in first.splitlines() if line.strip()]
        return lines or (None if f.optional else [])
    if not first:
        return None
    if f.widget == "number":
        try:
            return int(first) if first.lstrip("-").isdigit() else float(first)
        except ValueError:
            raise FormError(f.name, "不是数字") from None
    if f.widget == "json":
        try:
            return json.loads(first)
        except json.JSONDecodeError as exc:
            raise FormError(f.name, f"JSON 格式错误：{exc.msg}") from None
    return first


def config_from_form(schema: type[msgspec.Struct] | None, form: dict[str, list[str]]) -> dict[str, Any]:
    """The configuration object the submitted form describes (empty optional values left out)."""
    fields = config_fields(schema, {})
    if schema is None:
        value = _value(fields[0], form)
        if value is not None and not isinstance(value, dict):
            raise FormError("config", "应为 JSON 对象")
        return value or {}
    return {f.name: v for f in fields if (v := _value(f, form)) is not None}


def field_errors(errors: list[dict[str, Any]] | None, fields: list[Field]) -> dict[str, str]:
    """The API's field errors (`config.assignment.eligibleRoles[0]`, `config.clocks.x`) keyed by the form field
    they belong to: the longest field name that the error's path starts with."""
    names = _names(fields)
    out: dict[str, str] = {}
    for e in errors or []:
        path = str(e.get("field", "")).removeprefix("config").lstrip(".").replace("[", ".")
        owner = max((n for n in names if path == n or path.startswith(n + ".")), key=len, default="config")
        out.setdefault(owner, str(e.get("message", "")))
    return out


# msgspec says where a value went wrong as "... - at `$.fields[0].key`", and a missing one as "Object missing
# required field `name`" (at the top level, with no path).
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"missing required field `(?P<name>[^`]+)`")


def conversion_errors(exc: msgspec.ValidationError) -> list[dict[str, str]]:
    """msgspec's refusal of a form's values as the API's field errors (`field` the value's path, dotted), for
    field_errors to place beside the field."""
    found = _AT.match(str(exc))
    message, path = (found["message"], found["path"] or "") if found else (str(exc), "")
    if not path and (missing := _MISSING.search(message)):
        path = missing["name"]
    return [{"field": path, "message": message}]


def _names(fields: list[Field]) -> list[str]:
    return [n for f in fields for n in ([f.name, *_names(f.children)] if f.children else [f.name])]
