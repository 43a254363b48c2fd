"""Clock definitions as data: every statutory deadline the complaints, litigation and liaison modules watch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import msgspec

from modules.clocks.calendar import DAY_TYPES, DayType

__all__ = ("APPROVER_RANK", "CLOCKS", "EXEMPTION_REASONS", "OVERRIDE_KEYS", "Anchor", "Approver", "ClockSpec",
           "ExtensionTier", "Period", "Suspension", "Unit", "resolve")

Unit = Literal["days", "months"]
# after_start: due n days after the clock starts; before_event: due n days before a scheduled event.
Anchor = Literal["after_start", "before_event"]

# Why a reply clock may be waived ("件件有回复" exempts items nobody can be answered at).
EXEMPTION_REASONS: frozenset[str] = frozenset({"anonymous", "contact_unreachable", "contact_missing"})

OVERRIDE_KEYS: tuple[str, ...] = ("day_type", "lead_days")


class Period(msgspec.Struct, frozen=True):
    """An amount of days or calendar months."""

    amount: int
    unit: Unit = "days"


NO_EXTENSION = Period(0)
# Who may approve: the chief (检察长, deputies included), or the office one level up.
Approver = Literal["chief", "office_above"]
APPROVER_RANK: dict[str, int] = {"chief": 1, "office_above": 2}


class Suspension(msgspec.Struct, frozen=True):
    """A kind of time the rule leaves out of the period (a hearing, an appraisal, 中止审查), and who approves it."""

    code: str
    label_zh: str
    approval: Approver | None = None


class ExtensionTier(msgspec.Struct, frozen=True):
    """Up to `amount` more, approved by `approver` (tiers are used in order: the chief's month, then the office
    above's)."""

    amount: Period
    approver: Approver


HEARING = Suspension("hearing", "听证时间")  # 信访工作条例 Art. 36
APPRAISAL = Suspension("appraisal", "鉴定期间")  # 人民检察院公益诉讼办案规则
SUSPENSION = Suspension("suspension", "中止审查", approval="chief")  # 人民检察院公益诉讼办案规则


class ClockSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One kind of deadline: how long, counted how, how far it may be extended, when to warn."""

    code: str
    # The owning module's manifest name: `modules.registry.register` refuses a clock a manifest brings for
    # another module, and tests/unit/clocks checks every shared clock names a registered module.
    module: str
    length: Period
    day_type: DayType = "calendar"
    max_extension: Period = NO_EXTENSION
    # Warn when this many days (in the clock's day type) or fewer remain; largest first.
    lead_days: tuple[int, ...] = (5, 2)
    # A repeating clock falls due every `length` after `starts_after` (e.g. monthly after 3 months).
    repeats: bool = False
    starts_after: Period = NO_EXTENSION
    exemptible: bool = False
    anchor: Anchor = "after_start"
    # Typed suspensions the rule allows; a clock without any cannot be paused.
    suspensions: tuple[Suspension, ...] = ()
    # Who approves how much of max_extension, in order; empty: any holder of the extend right, up to the maximum.
    extension_tiers: tuple[ExtensionTier, ...] = ()
    # An extension is asked for first and approved by someone else (本机关负责人批准).
    extension_request: bool = False
    # Lengths one case may choose instead of `length` (written into the decision, e.g. 15 days when urgent).
    periods: tuple[Period, ...] = ()
    # The clock whose period's end starts this one ("from the end of the notice period").
    chained_to: str | None = None
    label_zh: str
    label_en: str


# Short clocks get short lead times: a 5-day warning on a 3-day clock would fire at once.
_WEEK_LEADS = (3, 1)
_SHORT_LEADS = (1,)


def _months(n: int) -> Period:
    return Period(n, "months")


_ALL = (
    # Complaints [检察机关群众信访件件有回复 2018; 信访工作条例 2022]
    ClockSpec(code="procedural_reply", module="complaints", length=Period(7), lead_days=_WEEK_LEADS,
              exemptible=True, label_zh="程序性回复", label_en="Procedural reply"),
    ClockSpec(code="result_reply", module="complaints", length=_months(3), exemptible=True,
              label_zh="办理结果答复", label_en="Reply on the result or progress"),
    ClockSpec(code="followup_reply", module="complaints", length=_months(1), repeats=True,
              starts_after=_months(3), exemptible=True,
              label_zh="办理进展月度答复", label_en="Monthly progress reply"),
    ClockSpec(code="receipt_notice", module="complaints", length=Period(15), exemptible=True,
              label_zh="书面告知受理", label_en="Written notice of receipt"),
    ClockSpec(code="wrong_route_objection", module="complaints", length=Period(5), day_type="working",
              lead_days=_SHORT_LEADS, label_zh="错转交异议", label_en="Objection to a wrongly routed item"),
    # Art. 34: extended by at most 30 days with the approval of the organ's head, asked for and approved apart.
    ClockSpec(code="handling_opinion", module="complaints", length=Period(60), max_extension=Period(30),
              extension_tiers=(ExtensionTier(Period(30), "chief"),), extension_request=True,
              label_zh="出具处理意见", label_en="Formal handling opinion"),
    ClockSpec(code="review_request", module="complaints", length=Period(30),
              label_zh="复查复核申请期", label_en="Period to request a review"),
    # Art. 36: the time of a hearing is not counted.
    ClockSpec(code="review_answer", module="complaints", length=Period(30), suspensions=(HEARING,),
              label_zh="复查复核答复", label_en="Answer to a review request"),
    # Public-interest litigation [人民检察院公益诉讼办案规则 2021; 检察建议工作规定 2019]
    ClockSpec(code="pil_case_decision_service", module="litigation", length=Period(7), lead_days=_WEEK_LEADS,
              label_zh="立案决定书送达行政机关", label_en="Serve the case-opening decision on the agency"),
    ClockSpec(code="recommendation_service", module="litigation", length=Period(3), lead_days=_SHORT_LEADS,
              label_zh="检察建议送达", label_en="Serve the procuratorial recommendation"),
    ClockSpec(code="recommendation_filing_upward", module="litigation", length=Period(5), lead_days=_SHORT_LEADS,
              label_zh="检察建议报上一级院备案", label_en="File the recommendation with the office above"),
    # Two months, or 15 days when urgent: chosen per case and written into the recommendation.
    ClockSpec(code="agency_reply", module="litigation", length=_months(2), periods=(_months(2), Period(15)),
              label_zh="行政机关书面回复", label_en="Agency's written reply"),
    ClockSpec(code="agency_reply_urgent", module="litigation", length=Period(15),
              label_zh="行政机关书面回复（紧急）", label_en="Agency's written reply (urgent)"),
    # From the end of the rectification (reply) period; +1 month with the chief's approval, longer only with the
    # office above (the rules set no cap on that: 6 months bounds a typing error).
    ClockSpec(code="rectification_review", module="litigation", length=_months(1), max_extension=_months(7),
              extension_tiers=(ExtensionTier(_months(1), "chief"), ExtensionTier(_months(6), "office_above")),
              extension_request=True, suspensions=(APPRAISAL, SUSPENSION), chained_to="agency_reply",
              label_zh="跟进调查评估整改", label_en="Rectification review before suing"),
    ClockSpec(code="public_notice", module="litigation", length=Period(30),
              label_zh="公告期", label_en="Public notice period"),
    ClockSpec(code="civil_review", module="litigation", length=_months(3), max_extension=_months(1),
              extension_tiers=(ExtensionTier(_months(1), "chief"),), extension_request=True,
              suspensions=(APPRAISAL, SUSPENSION), chained_to="public_notice",
              label_zh="公告期满后审查起诉", label_en="Review before a civil suit"),
    ClockSpec(code="suit_filing_upward", module="litigation", length=Period(5), lead_days=_SHORT_LEADS,
              label_zh="起诉书报上一级院备案", label_en="File the complaint with the office above"),
    ClockSpec(code="court_notice_reply", module="litigation", length=Period(3), lead_days=_SHORT_LEADS,
              label_zh="出庭通知书回复", label_en="Name the staff appearing in court"),
    ClockSpec(code="judgment_filing_upward", module="litigation", length=Period(3), lead_days=_SHORT_LEADS,
              label_zh="一审判决报上一级院", label_en="File the first-instance judgment upward"),
    ClockSpec(code="delegated_investigation", module="litigation", length=Period(30), suspensions=(APPRAISAL,),
              label_zh="委托调查", label_en="Delegated investigation"),
    # Liaison [代表法 2025 第五十一条]
    ClockSpec(code="suggestion_reply", module="liaison", length=_months(3),
              label_zh="代表建议答复", label_en="Reply to a deputy's suggestion"),
    ClockSpec(code="suggestion_reply_difficult", module="liaison", length=_months(6),
              label_zh="代表建议答复（复杂）", label_en="Reply to a wide-ranging or difficult suggestion"),
    ClockSpec(code="hearing_invitation_notice", module="liaison", length=Period(3), anchor="before_event",
              lead_days=_SHORT_LEADS,
              label_zh="听证邀请提前通知", label_en="Notify panellists before a public hearing"),
)

CLOCKS: dict[str, ClockSpec] = {spec.code: spec for spec in _ALL}


def resolve(spec: ClockSpec, overrides: Mapping[str, object]) -> ClockSpec:
    """Apply one office's JSON overrides (day_type, lead_days) to a spec; ValueError names any bad key."""
    if not isinstance(overrides, Mapping):
        raise ValueError(f"clock {spec.code}: overrides must be an object, got {type(overrides).__name__}")
    changes: dict[str, object] = {}
    for key, value in overrides.items():
        if key == "day_type":
            if value not in DAY_TYPES:
                raise ValueError(f"clock {spec.code}: day_type must be one of {', '.join(DAY_TYPES)}, got {value!r}")
            changes[key] = value
        elif key == "lead_days":
            changes[key] = _lead_days(spec.code, value)
        else:
            raise ValueError(f"clock {spec.code}: unknown override key {key!r} (allowed: {', '.join(OVERRIDE_KEYS)})")
    return msgspec.structs.replace(spec, **changes)


def _lead_days(code: str, value: object) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"clock {code}: lead_days must be a list of whole days, got {value!r}")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise ValueError(f"clock {code}: lead_days must hold whole days > 0, got {value!r}")
    # Warnings are looked up smallest-first, so order and duplicates in config must not matter.
    return tuple(sorted(set(value), reverse=True))
