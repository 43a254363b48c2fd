"""The deadline engine: a clock's spec, start and recorded events in, its current state out. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, NamedTuple

import msgspec

from modules.clocks.calendar import SHANGHAI, WorkCalendar, local_date, shift_months
from modules.clocks.rules import APPROVER_RANK, EXEMPTION_REASONS, ClockSpec, Period, Unit

__all__ = (
    "ClockEvent", "ClockEventError", "ClockState", "Compliance", "Exempted", "Extended", "ExtensionLimitError",
    "ExtensionRequested", "NotApplicable", "Paused", "PeriodSet", "Resumed", "Status", "Stopped", "admit",
    "chain_start", "compliance", "compliance_of", "deadline_end", "evaluate",
)

Status = Literal["running", "paused", "met", "overdue", "met_late", "exempt", "not_applicable"]


class ClockEventError(ValueError):
    """An event that cannot happen to this clock at this point (order, state or content)."""


class ExtensionLimitError(ClockEventError):
    """Extensions granted would exceed the spec's maximum."""


# Events are tagged so modules can store them as JSON and decode with msgspec.json.decode(..., type=list[ClockEvent]).
class Paused(msgspec.Struct, frozen=True, tag="paused", tag_field="kind"):
    """The clock stops counting for a suspension its rule allows (a hearing, an appraisal, 中止审查)."""

    at: datetime
    reason: str
    # The suspension's code from the rule's list, and who approved it where the rule asks for approval.
    reason_code: str | None = None
    approver: str | None = None


class Resumed(msgspec.Struct, frozen=True, tag="resumed", tag_field="kind"):
    """The clock counts again after a pause."""

    at: datetime


class ExtensionRequested(msgspec.Struct, frozen=True, tag="extension_requested", tag_field="kind"):
    """Someone asks for an extension; it counts only once someone else approves it."""

    at: datetime
    amount: int
    unit: Unit
    reason: str
    requested_by: str


class Extended(msgspec.Struct, frozen=True, tag="extended", tag_field="kind"):
    """An approved extension of the period."""

    at: datetime
    amount: int
    unit: Unit
    reason: str
    approver: str
    # The tier of approval ("chief", "office_above") and who asked, where the rule wants both.
    tier: str | None = None
    requested_by: str | None = None


class PeriodSet(msgspec.Struct, frozen=True, tag="period_set", tag_field="kind"):
    """The length this case's decision chose among those the rule allows (e.g. 15 days when urgent); first event."""

    at: datetime
    amount: int
    unit: Unit


class Exempted(msgspec.Struct, frozen=True, tag="exempted", tag_field="kind"):
    """The clock no longer applies (e.g. anonymous item); excluded from compliance rates."""

    at: datetime
    reason_code: str


class Stopped(msgspec.Struct, frozen=True, tag="stopped", tag_field="kind"):
    """What the clock waits for has happened (reply sent, decision served, ...)."""

    at: datetime


class NotApplicable(msgspec.Struct, frozen=True, tag="not_applicable", tag_field="kind"):
    """The clock stops applying (the item was referred out or refused); left out of the rates, with the reason."""

    at: datetime
    reason_code: str


ClockEvent = Paused | Resumed | ExtensionRequested | Extended | Exempted | Stopped | PeriodSet | NotApplicable


class ClockState(msgspec.Struct, frozen=True, kw_only=True):
    """Where a clock stands at `now`. The deadline is the end of `due`, Asia/Shanghai."""

    code: str
    status: Status
    due: date
    # In the clock's day type, counted to `due` from today, or from the stop/exemption day once finished.
    days_remaining: int
    # The smallest lead time already reached ("due in <= 2 days"), or None; only for running clocks.
    warning: int | None
    calendar_estimated: bool
    paused_days: int = 0
    extension: Period | None = None
    exemption: str | None = None
    finished_at: datetime | None = None
    occurrence: int = 1
    next_due: date | None = None


class Compliance(NamedTuple):
    """On-time counts for a set of clocks; rate is None when nothing has fallen due."""

    met_on_time: int
    due: int
    rate: float | None


def deadline_end(due: date) -> datetime:
    """The first instant after the deadline: midnight ending the due day, Asia/Shanghai."""
    return datetime.combine(due + timedelta(days=1), time(0), SHANGHAI)


@dataclass(slots=True)
class _Tally:
    """What the events add up to, as they are replayed in order."""

    paused_days: int = 0
    paused_since: date | None = None
    extension: int = 0
    exemption: Exempted | NotApplicable | None = None
    stop: Stopped | None = None
    pending: ExtensionRequested | None = None

    @property
    def finished(self) -> datetime | None:
        done = self.stop or self.exemption
        return done.at if done else None


def evaluate(spec: ClockSpec, calendar: WorkCalendar, start: datetime, events: Sequence[ClockEvent], *,
             now: datetime, event_at: datetime | None = None, occurrence: int = 1) -> ClockState:
    """The state of one clock at `now`; raises ClockEventError for events that cannot have happened."""
    start_day, today = local_date(start), local_date(now)
    if now < start:
        raise ClockEventError(f"clock {spec.code}: now {now.isoformat()} is before the start {start.isoformat()}")
    if (spec.anchor == "before_event") != (event_at is not None):
        need = "needs event_at" if event_at is None else "takes no event_at"
        raise ClockEventError(f"clock {spec.code} ({spec.anchor}) {need}")
    # A repeating clock's occurrence n falls due n periods after the series start; any other clock may be
    # started again (after a transfer, a reopening), each occurrence a full period from its own start.
    if occurrence < 1:
        raise ClockEventError(f"clock {spec.code}: occurrence {occurrence} is not valid for this clock")
    event_day = local_date(event_at) if event_at is not None else None
    if events and isinstance(events[0], PeriodSet):
        # This case's own length (chosen in its decision) replaces the rule's.
        spec = msgspec.structs.replace(spec, length=Period(events[0].amount, events[0].unit))

    def due_now(tally: _Tally, paused: int) -> date:
        return _due(spec, calendar, start_day, occurrence, tally.extension, paused, event_day)

    tally, previous = _Tally(), start
    for event in events:
        at_day = local_date(event.at)
        if event.at < previous:
            raise ClockEventError(f"clock {spec.code}: {_kind(event)} at {event.at.isoformat()} is out of order "
                                  f"(before the start or the previous event)")
        if event.at > now:
            raise ClockEventError(f"clock {spec.code}: {_kind(event)} at {event.at.isoformat()} is in the future")
        if tally.finished is not None:
            raise ClockEventError(f"clock {spec.code}: {_kind(event)} after the clock finished")
        previous = event.at
        if isinstance(event, PeriodSet):
            if event is not events[0]:
                raise ClockEventError(f"clock {spec.code}: a case's period is set only as the first event")
        elif isinstance(event, ExtensionRequested):
            tally.pending = event
        elif isinstance(event, Paused):
            if spec.anchor == "before_event":
                raise ClockEventError(f"clock {spec.code}: a before-event deadline cannot pause; reschedule the event")
            if tally.paused_since is not None:
                raise ClockEventError(f"clock {spec.code}: paused again without a resume")
            # Pausing an overdue clock would hide the overdue days from flow monitoring.
            if event.at >= deadline_end(due_now(tally, tally.paused_days)):
                raise ClockEventError(f"clock {spec.code}: cannot pause after the deadline has passed")
            tally.paused_since = at_day
        elif isinstance(event, Resumed):
            if tally.paused_since is None:
                raise ClockEventError(f"clock {spec.code}: resumed without a pause")
            tally.paused_days += calendar.count_days(tally.paused_since, at_day, spec.day_type)
            tally.paused_since = None
        elif isinstance(event, Extended):
            _check_extension(spec, tally, event, due_now(tally, _paused_to(calendar, spec, tally, at_day)))
            tally.extension += event.amount
            tally.pending = None
        else:
            # Stopping or exempting ends an open pause at that moment.
            if tally.paused_since is not None:
                tally.paused_days += calendar.count_days(tally.paused_since, at_day, spec.day_type)
                tally.paused_since = None
            if isinstance(event, NotApplicable):
                tally.exemption = event
            elif isinstance(event, Exempted):
                if not spec.exemptible:
                    raise ClockEventError(f"clock {spec.code} cannot be exempted")
                if event.reason_code not in EXEMPTION_REASONS:
                    allowed = ", ".join(sorted(EXEMPTION_REASONS))
                    raise ClockEventError(f"clock {spec.code}: unknown exemption reason {event.reason_code!r} "
                                          f"(allowed: {allowed})")
                tally.exemption = event
            else:
                tally.stop = event

    # An open pause counts up to today, so the due date keeps moving while days_remaining stands still.
    paused_days = _paused_to(calendar, spec, tally, today)
    due = due_now(tally, paused_days)
    end = deadline_end(due)
    finished = tally.finished
    status: Status
    if isinstance(tally.exemption, NotApplicable):
        status = "not_applicable"
    elif tally.exemption is not None:
        status = "exempt"
    elif tally.stop is not None:
        status = "met" if tally.stop.at < end else "met_late"
    elif now >= end:
        status = "overdue"
    elif tally.paused_since is not None:
        status = "paused"
    else:
        status = "running"
    as_of = local_date(finished) if finished is not None else today
    remaining = calendar.count_days(as_of, due, spec.day_type)
    if as_of > due:
        # A working-day clock missed on Friday is still late on Saturday, with zero working days between.
        remaining = min(remaining, -1)
    warning = None
    if status == "running":
        warning = min((lead for lead in spec.lead_days if remaining <= lead), default=None)
    # The next occurrence is anchored on the series start, not on this one's pauses or extensions.
    next_due = _due(spec, calendar, start_day, occurrence + 1, 0, 0, event_day) if spec.repeats else None
    span_end = max(due, as_of, next_due or due)
    span_start = min(start_day, due)
    return ClockState(
        code=spec.code, status=status, due=due, days_remaining=remaining, warning=warning,
        calendar_estimated=not calendar.covers_span(span_start, span_end), paused_days=paused_days,
        extension=Period(tally.extension, spec.max_extension.unit) if tally.extension else None,
        exemption=tally.exemption.reason_code if tally.exemption else None, finished_at=finished,
        occurrence=occurrence, next_due=next_due,
    )


def admit(spec: ClockSpec, events: Sequence[ClockEvent], event: ClockEvent) -> ClockEvent:
    """Check a new event against what the rule allows beyond replay (typed and approved suspensions, extensions
    asked for and approved by someone else at the right tier, a case period the rule offers); the event to
    record (an approval takes the request's amount). Stored history is replayed by evaluate() as it was."""
    if isinstance(event, Paused):
        allowed = {s.code: s for s in spec.suspensions}
        if not allowed:
            raise ClockEventError(f"clock {spec.code} cannot be paused: its rule leaves no time out of the period")
        kind = allowed.get(event.reason_code or "")
        if kind is None:
            raise ClockEventError(f"clock {spec.code}: a pause needs a reason code from {', '.join(sorted(allowed))}")
        if kind.approval and not event.approver:
            raise ClockEventError(f"clock {spec.code}: {kind.label_zh} needs the approval of the {kind.approval}")
    elif isinstance(event, PeriodSet):
        if events or Period(event.amount, event.unit) not in spec.periods:
            raise ClockEventError(f"clock {spec.code}: a case's period is one of {_periods(spec.periods)}, "
                                  f"set when the clock starts")
    elif isinstance(event, ExtensionRequested):
        if spec.max_extension.amount == 0:
            raise ClockEventError(f"clock {spec.code} cannot be extended")
        if _pending(events) is not None:
            raise ClockEventError(f"clock {spec.code}: an extension request is already waiting for approval")
        granted = sum(e.amount for e in events if isinstance(e, Extended))
        if event.unit != spec.max_extension.unit or granted + event.amount > spec.max_extension.amount:
            raise ExtensionLimitError(f"clock {spec.code}: at most {spec.max_extension.amount - granted} more "
                                      f"{spec.max_extension.unit} may be asked for")
    elif isinstance(event, Extended):
        event = _admit_extension(spec, events, event)
    return event


def _admit_extension(spec: ClockSpec, events: Sequence[ClockEvent], event: Extended) -> Extended:
    request = _pending(events)
    if spec.extension_request:
        if request is None:
            raise ClockEventError(f"clock {spec.code}: an extension is asked for first, then approved")
        if request.requested_by == event.approver:
            raise ClockEventError(f"clock {spec.code}: the one who asked for an extension cannot approve it")
        event = msgspec.structs.replace(event, amount=request.amount, unit=request.unit,
                                        requested_by=request.requested_by)
    if spec.extension_tiers:
        granted = sum(e.amount for e in events if isinstance(e, Extended)) + event.amount
        needed, cap = None, 0
        for tier in spec.extension_tiers:
            cap += tier.amount.amount
            if granted <= cap:
                needed = tier.approver
                break
        if needed is None:
            return event  # over every tier: evaluate() reports the limit
        if APPROVER_RANK.get(event.tier or "", 0) < APPROVER_RANK[needed]:
            raise ClockEventError(f"clock {spec.code}: extending to {granted} {spec.max_extension.unit} needs the "
                                  f"approval of the {needed.replace('_', ' ')}")
    return event


def _pending(events: Sequence[ClockEvent]) -> ExtensionRequested | None:
    pending = None
    for e in events:
        if isinstance(e, ExtensionRequested):
            pending = e
        elif isinstance(e, Extended):
            pending = None
    return pending


def _periods(periods: Iterable[Period]) -> str:
    return ", ".join(f"{p.amount} {p.unit}" for p in periods) or "none (this rule has one length)"


def chain_start(previous: ClockState) -> datetime:
    """Where a clock counted "from the end of" another period starts: the last instant of that period's last day
    (so the next day is day 1, as the civil-law counting wants)."""
    return deadline_end(previous.due) - timedelta(microseconds=1)


def compliance(states: Iterable[ClockState]) -> Compliance:
    """Clocks met on time over clocks fallen due (met, met late, overdue); exempt and open clocks left out."""
    counts: dict[str, int] = {}
    for state in states:
        counts[state.status] = counts.get(state.status, 0) + 1
    return compliance_of(counts)


def compliance_of(counts: Mapping[str, int]) -> Compliance:
    """The same from counts per status (as a GROUP BY gives them): the one definition of "on time"."""
    met = counts.get("met", 0)
    due = met + counts.get("met_late", 0) + counts.get("overdue", 0)
    return Compliance(met, due, met / due if due else None)


def _due(spec: ClockSpec, calendar: WorkCalendar, start: date, occurrence: int, extension: int, paused: int,
         event_day: date | None) -> date:
    if event_day is not None:
        if spec.length.unit == "months":
            return calendar.months_before(event_day, spec.length.amount, spec.day_type)
        return calendar.days_before(event_day, spec.length.amount, spec.day_type)
    months = days = 0
    periods = occurrence if spec.repeats else 1
    parts = [spec.starts_after, Period(spec.length.amount * periods, spec.length.unit),
             Period(extension, spec.max_extension.unit), Period(paused, "days")]  # paused: in the day type
    # Summing like units before adding avoids drift: Nov 30 + 3 months + 1 month must be Mar 30, not Mar 28.
    for part in parts:
        if part.unit == "months":
            months += part.amount
        else:
            days += part.amount
    if not days:
        return calendar.add_months(start, months, spec.day_type)
    if spec.day_type == "working":
        # Working days are counted on from the (working) day the months end.
        base = calendar.add_months(start, months, "working") if months else start
    else:
        # Calendar days are added to the raw month end and rolled once: only the last day may move.
        base = shift_months(start, months)
    return calendar.add_days(base, days, spec.day_type)


def _paused_to(calendar: WorkCalendar, spec: ClockSpec, tally: _Tally, day: date) -> int:
    if tally.paused_since is None:
        return tally.paused_days
    return tally.paused_days + calendar.count_days(tally.paused_since, day, spec.day_type)


def _check_extension(spec: ClockSpec, tally: _Tally, event: Extended, due: date) -> None:
    limit = spec.max_extension
    if limit.amount == 0 or spec.anchor == "before_event":
        raise ClockEventError(f"clock {spec.code} cannot be extended")
    if event.unit != limit.unit:
        raise ClockEventError(f"clock {spec.code} is extended in {limit.unit}, not {event.unit}")
    if isinstance(event.amount, bool) or event.amount <= 0:
        raise ClockEventError(f"clock {spec.code}: an extension must be a positive amount, got {event.amount!r}")
    if tally.extension + event.amount > limit.amount:
        raise ExtensionLimitError(
            f"clock {spec.code}: extending by {event.amount} {limit.unit} would make {tally.extension + event.amount}, "
            f"over the maximum of {limit.amount} {limit.unit}")
    # The law requires the extension to be decided while the period is still running.
    if event.at >= deadline_end(due):
        raise ClockEventError(f"clock {spec.code}: cannot extend after the deadline has passed")


def _kind(event: ClockEvent) -> str:
    return type(event).__name__.lower()
