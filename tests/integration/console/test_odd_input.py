"""Odd input to console pages and forms answers a page or a refusal, never a 500."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.console.conftest import signed_in

_ANY = str(uuid.uuid4())
GETS = ["/console/people?cursor=%%%", "/console/people?cursor=eyJ4IjoxfQ", "/console/audit?cursor=abc",
        "/console/audit?since=2026-13-45&until=yesterday", "/console/permissions?role=nobody",
        "/console/monitoring?overdue=maybe", "/console/modules/no-such-module", "/console/clients?cursor=x",
        "/console/catalog?done=%00", "/console/login?notice=%3Cscript%3E", "/console/data/figures?x=1"]
POSTS = [
    ("/console/modules/complaints", {"clocks": "[]"}),
    ("/console/modules/complaints", {"assignment.eligibleRoles": ["nobody"]}),
    ("/console/modules/complaints", {"clocks": '{"complaint.reply": {"day_type": "lunar"}}'}),
    ("/console/modules/nothing/switch", {}),
    (f"/console/people/{_ANY}/disable", {}),
    (f"/console/people/{_ANY}/roles", {"roles": ["chief"]}),
    (f"/console/role-requests/{_ANY}/approval", {}),
    (f"/console/role-requests/{_ANY}/maybe", {}),
    (f"/console/clients/{_ANY}/suspend", {}),
    (f"/console/clients/{_ANY}/explode", {}),
    (f"/console/clients/{_ANY}/secret", {}),
    (f"/console/monitoring/{_ANY}/rungs", {"rung": "notice"}),
    ("/console/permissions", {"role": "assistant", "actions": ["no.such.action"], "reason": "x"}),
    ("/console/permissions", {"role": "partner", "actions": ["admin.users.manage"], "reason": "x"}),
    ("/console/calendars", {"level": "galaxy"}),
    ("/console/catalog/templates", {"code": "x" * 500, "state": "closed", "title": "t", "body": "b"}),
    ("/console/catalog/categories", {"code": "odd", "kind": "report", "name": "x", "fields": '{"not": "a list"}'}),
    ("/console/catalog/categories", {"code": "odd", "kind": "report", "name": "x", "fields": "[1, 2]"}),
    ("/console/catalog/categories", {"code": "odd", "kind": "report", "name": "x", "sort": "9999999999"}),
    ("/console/catalog/categories", {"code": "odd", "kind": "report", "name": "x", "sort": "1e400"}),
    ("/console/catalog/categories", {"code": "odd", "kind": "nobody", "name": "x" * 500, "handlingOpinion": "?"}),
    ("/console/monitoring/bulletins", {"start": "2026-02-30", "end": "2026-03-01"}),
    ("/console/monitoring/bulletins", {"start": "2026-03-01"}),
    ("/console/people/new", {"username": "a" * 500, "display_name": "x", "kind": "robot"}),
    ("/console/clients/new", {"client_id": "jinshan-" + "x" * 80, "name": "x", "agency_kind": "army",
                              "rate": "99999999999999999999"}),
    ("/console/password", {"old_password": "x" * 1000, "new_password": "y", "new_password_again": "y"}),
    ("/console/totp/confirm", {"code": "abcdef"}),
]


@pytest.mark.parametrize("path", GETS)
async def test_odd_queries_never_answer_500(browser, new_staff, path) -> None:  # noqa: ANN001
    c = await browser()
    await signed_in(c, await new_staff(roles=("admin", "case_mgmt")))
    resp = await c.get(path)
    assert resp.status_code < 500, (path, resp.status_code, resp.text[:300])
    assert "<script>" not in resp.text


@pytest.mark.parametrize(("path", "form"), POSTS)
async def test_odd_forms_never_answer_500(browser, new_staff, path, form) -> None:  # noqa: ANN001
    c = await browser()
    csrf = await signed_in(c, await new_staff(roles=("admin", "case_mgmt")))
    resp = await c.post(path, data={"_csrf": csrf, **form})
    assert 400 <= resp.status_code < 500, (path, resp.status_code, resp.text[:300])
