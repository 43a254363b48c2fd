"""The clock registry holds the statutory periods, and office overrides are validated."""

from __future__ import annotations

import pytest

from modules.clocks.calendar import DayType
from modules.clocks.rules import CLOCKS, ClockSpec, Period, Unit, resolve

# (code, amount, unit, day type, max extension) as the domain brief states them.
EXPECTED: list[tuple[str, int, Unit, DayType, Period]] = [
    ("procedural_reply", 7, "days", "calendar", Period(0)),
    ("result_reply", 3, "months", "calendar", Period(0)),
    ("followup_reply", 1, "months", "calendar", Period(0)),
    ("receipt_notice", 15, "days", "calendar", Period(0)),
    ("wrong_route_objection", 5, "days", "working", Period(0)),
    ("handling_opinion", 60, "days", "calendar", Period(30)),
    ("review_request", 30, "days", "calendar", Period(0)),
    ("review_answer", 30, "days", "calendar", Period(0)),
    ("pil_case_decision_service", 7, "days", "calendar", Period(0)),
    ("recommendation_service", 3, "days", "calendar", Period(0)),
    ("recommendation_filing_upward", 5, "days", "calendar", Period(0)),
    ("agency_reply", 2, "months", "calendar", Period(0)),
    ("agency_reply_urgent", 15, "days", "calendar", Period(0)),
    ("rectification_review", 1, "months", "calendar", Period(7, "months")),
    ("public_notice", 30, "days", "calendar", Period(0)),
    ("civil_review", 3, "months", "calendar", Period(1, "months")),
    ("suit_filing_upward", 5, "days", "calendar", Period(0)),
    ("court_notice_reply", 3, "days", "calendar", Period(0)),
    ("judgment_filing_upward", 3, "days", "calendar", Period(0)),
    ("delegated_investigation", 30, "days", "calendar", Period(0)),
    ("suggestion_reply", 3, "months", "calendar", Period(0)),
    ("suggestion_reply_difficult", 6, "months", "calendar", Period(0)),
    ("hearing_invitation_notice", 3, "days", "calendar", Period(0)),
]


@pytest.mark.parametrize(("code", "amount", "unit", "day_type", "max_extension"), EXPECTED)
def test_registry_holds_the_statutory_periods(code: str, amount: int, unit: Unit, day_type: DayType,
                                              max_extension: Period) -> None:
    spec = CLOCKS[code]
    assert (spec.code, spec.length, spec.day_type, spec.max_extension) == (code, Period(amount, unit), day_type,
                                                                          max_extension)
    assert spec.label_zh and spec.label_en


def test_special_clocks() -> None:
    followup = CLOCKS["followup_reply"]
    assert followup.repeats and followup.starts_after == Period(3, "months")
    assert CLOCKS["hearing_invitation_notice"].anchor == "before_event"
    exemptible = {code for code, spec in CLOCKS.items() if spec.exemptible}
    assert exemptible == {"procedural_reply", "result_reply", "followup_reply", "receipt_notice"}
    # Lead times must be positive and largest first, or the warning lookup picks the wrong one.
    assert all(spec.lead_days == tuple(sorted(spec.lead_days, reverse=True)) and min(spec.lead_days) > 0
               for spec in CLOCKS.values())


def test_override_day_type_and_lead_days() -> None:
    spec = resolve(CLOCKS["procedural_reply"], {"day_type": "working", "lead_days": [2, 5, 5]})
    assert spec.day_type == "working" and spec.lead_days == (5, 2)
    assert CLOCKS["procedural_reply"].day_type == "calendar"  # the registry is not changed
    assert resolve(CLOCKS["procedural_reply"], {}) == CLOCKS["procedural_reply"]


@pytest.mark.parametrize(("overrides", "named"), [
    ({"daytype": "working"}, "daytype"),
    ({"length": 14}, "length"),
    ({"day_type": "workdays"}, "day_type"),
    ({"lead_days": 5}, "lead_days"),
    ({"lead_days": [5, 0]}, "lead_days"),
    ({"lead_days": [True]}, "lead_days"),
    ({"lead_days": ["5"]}, "lead_days"),
])
def test_bad_overrides_name_the_key(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=f"procedural_reply.*{named}"):
        resolve(CLOCKS["procedural_reply"], overrides)


def test_specs_are_frozen() -> None:
    spec: ClockSpec = CLOCKS["procedural_reply"]
    with pytest.raises(AttributeError):
        spec.day_type = "working"  # type: ignore[misc]


def test_every_clock_names_a_registered_module() -> None:
    # `ClockSpec.module` is a plain name, checked here and at registration instead of by a Literal to edit.
    from modules.registry import manifests

    assert {spec.module for spec in CLOCKS.values()} <= {m.name for m in manifests()}


def test_a_module_cannot_bring_a_clock_filed_under_another_module() -> None:
    from modules.kernel.manifest import Manifest
    from modules.registry import register

    stray = ClockSpec(code="stray_reply", module="complaints", length=Period(5), label_zh="", label_en="")
    with pytest.raises(ValueError, match="filed as stray_reply of module complaints"):
        register(Manifest(name="strays", label_zh="", routes=list, actions={}, clocks={"stray_reply": stray}))
    assert "stray_reply" not in CLOCKS
