"""委托调查 over HTTP: the handler delegates part of the investigation to the procuratorate of another area, which
starts the 30-day clock on the case; one delegation is out at a time and the investigation is not concluded while
it is; an overdue one shows in flow monitoring; recording the result meets the clock (late after the 30 days)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from modules.clocks.store import today
from tests.helpers import key
from tests.integration.clocks.helpers import backdate, clock_of
from tests.integration.litigation.test_case_steps import _photo, _step
from tests.integration.litigation.test_flows import CASES, CLUES, _approve, _clue, _propose

MONITORING = "/api/v1/monitoring/deadlines"


async def _case(client: Any, staff: Any) -> str:
    """A fresh administrative case under investigation: its URL."""
    prosecutor = await staff("jinshan", "prosecutor")
    made = await client.post(CLUES, headers={**prosecutor, **key()}, json=_clue(n=951))
    url = f"{CLUES}/{made.json()['id']}"
    await client.post(f"{url}/steps", headers=prosecutor, json={"step": "evaluate"})
    await _propose(client, url, staff, {"step": "open_case", "route": "administrative", "reason": "符合立案条件",
                                        "agency": "jinshan-ecoenv"})
    return f"{CASES}/{(await _approve(client, url, staff))['caseId']}"


def _delegations(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in case["clocks"] if c["code"] == "delegated_investigation"]


async def test_a_delegated_investigation_runs_its_thirty_days_and_the_result_meets_them(client, staff, conn) -> None:  # noqa: ANN001
    prosecutor = await staff("jinshan", "prosecutor")
    url = await _case(client, staff)
    case = (await client.get(url, headers=prosecutor)).json()
    offered = {s["name"]: s for s in case["availableSteps"]}
    assert set(offered["delegate_investigation"]["needs"]) == {"delegatedTo", "content"}
    assert "record_delegated_result" not in offered
    assert _delegations(case) == []

    # Nothing is out yet: no result to record; a delegation names the procuratorate asked.
    nothing = await client.post(f"{url}/steps", headers=prosecutor,
                                json={"step": "record_delegated_result", "content": "调查结果"})
    assert nothing.status_code == 409, nothing.text
    unnamed = await client.post(f"{url}/steps", headers=prosecutor,
                                json={"step": "delegate_investigation", "content": "调取排污许可"})
    assert unnamed.status_code == 400 and unnamed.json()["errors"][0]["field"] == "delegatedTo"

    ask = {"step": "delegate_investigation", "delegatedTo": "上海市崇明区人民检察院",
           "content": "请调取涉案企业在崇明的排污许可及近一年在线监测数据。"}
    delegated = await _step(client, url, prosecutor, ask, "investigating")
    clock = clock_of(delegated, "delegated_investigation")
    assert clock["status"] == "running" and clock["label"] == "委托调查"
    assert date.fromisoformat(clock["due"]) >= today() + timedelta(days=30)
    # Out: its result is offered; a second delegation and concluding the investigation are not.
    names = {s["name"] for s in delegated["availableSteps"]}
    assert "record_delegated_result" in names and not names & {"delegate_investigation", "issue_recommendation"}
    entry = delegated["timeline"][-1]
    assert entry["type"] == "step.delegate_investigation"
    assert entry["data"]["delegatedTo"] == "上海市崇明区人民检察院"

    # One at a time; and the investigation is not concluded while it is out.
    twice = await client.post(f"{url}/steps", headers=prosecutor, json=ask)
    assert twice.status_code == 409, twice.text
    early = await client.post(f"{url}/steps", headers=prosecutor,
                              json={"step": "issue_recommendation", "content": "建议依法履职。"})
    assert early.status_code == 409 and early.json()["extra"]["delegatedDue"] == clock["due"]

    # Forty days on and still out: overdue on the case and in flow monitoring, with the case's number.
    await backdate(conn, delegated["id"], "delegated_investigation", 40)
    late = clock_of((await client.get(url, headers=prosecutor)).json(), "delegated_investigation")
    assert late["status"] == "overdue" and late["daysRemaining"] < 0
    listed = await client.get(MONITORING, headers=await staff("jinshan", "case_mgmt"), params={
        "module": "litigation", "overdue": "true", "handler": delegated["handlerId"], "limit": 200})
    assert listed.status_code == 200, listed.text
    ours = [r for r in listed.json()["items"] if r["subjectId"] == delegated["id"]]
    assert [(r["clock"], r["ref"], r["status"]) for r in ours] == [
        ("delegated_investigation", delegated["caseNo"], "overdue")]

    # The result comes back (citing the material received): the clock is met, late.
    material = await _photo(client, url, prosecutor, kind="document")
    result = {"step": "record_delegated_result", "content": "崇明区院复函：排污许可已过期，监测数据超标。",
              "evidence": [material]}
    answered = await _step(client, url, prosecutor, result, "investigating")
    assert clock_of(answered, "delegated_investigation")["status"] == "met_late"
    assert answered["timeline"][-1]["data"]["evidence"] == [material]

    # A second delegation starts a fresh 30 days; its result in time meets it.
    again = await _step(client, url, prosecutor, {**ask, "delegatedTo": "上海市奉贤区人民检察院"}, "investigating")
    assert [c["status"] for c in _delegations(again)] == ["met_late", "running"]
    done = await _step(client, url, prosecutor, {"step": "record_delegated_result", "content": "奉贤区院复函"},
                       "investigating")
    assert [c["status"] for c in _delegations(done)] == ["met_late", "met"]
    types = [e["type"] for e in done["timeline"]]
    assert types.count("step.delegate_investigation") == 2 and types.count("step.record_delegated_result") == 2
    audited = {r["action"] for r in await conn.fetch("select action from audit_log where object_id = $1",
                                                     done["id"])}
    assert {"case.delegate_investigation", "case.record_delegated_result"} <= audited

    # Nothing is out now: the investigation may conclude.
    await _propose(client, url, staff, {"step": "issue_recommendation", "content": "建议依法履职。"})


async def test_terminating_a_case_stops_the_delegated_investigation(client, staff) -> None:  # noqa: ANN001
    prosecutor = await staff("jinshan", "prosecutor")
    url = await _case(client, staff)
    await _step(client, url, prosecutor, {"step": "delegate_investigation", "delegatedTo": "上海市崇明区人民检察院",
                                          "content": "请协助询问证人。"}, "investigating")
    await _propose(client, url, staff, {"step": "terminate", "reason": "公益损害已消除"})
    ended = await _approve(client, url, staff)
    assert ended["state"] == "terminated"
    assert [c["status"] for c in _delegations(ended)] == ["met"]
