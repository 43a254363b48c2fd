"""Each module's configuration has a schema, checked when an admin saves it (a bad value once saved made every
assignment of the office answer 500)."""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec

from api.errors import ErrorCode, ProblemError
from auth.actions import STAFF_ROLES

__all__ = ("check_config",)

StaffRole = Literal[STAFF_ROLES]  # type: ignore[valid-type]


class AssignmentPlan(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """The office's published plan for random assignment: which roles may draw items."""

    eligible_roles: list[StaffRole] | None = None  # type: ignore[valid-type]


class ComplaintsConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Complaints: per-clock day types and warning lead times, and the assignment plan."""

    clocks: dict[str, Any] | None = None
    assignment: AssignmentPlan | None = None


class ClocksOnly(msgspec.Struct, forbid_unknown_fields=True):
    """Modules whose only setting so far is their clocks."""

    clocks: dict[str, Any] | None = None


SCHEMAS: dict[str, type[msgspec.Struct]] = {"complaints": ComplaintsConfig, "litigation": ClocksOnly,
                                            "liaison": ClocksOnly}
_PATH = re.compile(r"at `\$(.*)`$")


def check_config(module: str, config: dict[str, Any]) -> None:
    """422 naming the field when `config` does not fit the module's schema (the clocks are checked on their own)."""
    try:
        msgspec.convert(config, SCHEMAS[module])
    except msgspec.ValidationError as exc:
        message = str(exc)
        where = _PATH.search(message)
        field = "config" + (where.group(1) if where else "")
        raise ProblemError(422, ErrorCode.UNPROCESSABLE, "The module configuration is invalid.",
                           errors=[{"field": field, "message": _PATH.sub("", message).rstrip(" -")}]) from None
