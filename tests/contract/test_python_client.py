"""The committed spec is a contract: a Python client generated from it with no warnings drives the complaint flow
(anonymous and signed-in filing, retries, tracking, triage, assignment, replies, closure, rating), a public-interest
clue and a deputy's suggestion against the app, with no hand-written HTTP; every answer parses into its model."""

from __future__ import annotations

import importlib
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from api.spec import COMMITTED
from auth.demo import DEMO_PASSWORD
from tests.contract import generate
from tests.helpers import sms_code

CONFIG = Path(__file__).with_name("python-client.yaml")
FILING = {"office": "jinshan", "category": "accusation", "title": "某单位违规收费",
          "body": "2026年11月在某窗口办事时被收取不合理费用，请依法处理。"}


@pytest.fixture(scope="module", name="generated")
def fx_generated(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The client package, generated from openapi/openapi.json into a temporary folder and imported."""
    out = tmp_path_factory.mktemp("client") / "jianwu_client"
    generate(COMMITTED, CONFIG, out)
    sys.path.insert(0, str(out.parent))
    try:
        yield importlib.import_module("jianwu_client")
    finally:
        sys.path.remove(str(out.parent))


def _op(name: str) -> ModuleType:
    """One generated operation module, e.g. _op("complaints.complaint_step")."""
    return importlib.import_module(f"jianwu_client.api.{name}")


def _models() -> ModuleType:
    return importlib.import_module("jianwu_client.models")


def _key() -> str:
    return f"contract-{uuid.uuid4()}"


def _client(test_client: httpx.AsyncClient, token: str | None = None) -> Any:
    """A generated client, built as an app builds it, whose requests go to the app under test."""
    module = importlib.import_module("jianwu_client.client")
    args = {"base_url": str(test_client.base_url), "httpx_args": {"transport": test_client._transport}}
    return module.AuthenticatedClient(token=token, **args) if token else module.Client(**args)


async def _signed_in(test_client: httpx.AsyncClient, username: str, app: str = "STAFF_APP") -> Any:
    """A client signed in with the password grant of the generated token operation."""
    m = _models()
    form = m.PasswordGrantForm(client_id=getattr(m.PasswordGrantFormClientId, app), username=username,
                               password=DEMO_PASSWORD, grant_type=m.PasswordGrantFormGrantType.PASSWORD)
    answer = await _op("auth.auth_token").asyncio_detailed(client=_client(test_client), body=form)
    assert answer.status_code == 200 and isinstance(answer.parsed, m.TokenResponse), answer.content
    return _client(test_client, answer.parsed.access_token)


async def _citizen(test_client: httpx.AsyncClient, settings: Any) -> Any:
    """A new citizen signed in with a code sent by SMS (read from the development outbox)."""
    m = _models()
    phone = f"158{uuid.uuid4().int % 10**8:08d}"
    sent = await _op("auth.auth_request_otp").asyncio_detailed(client=_client(test_client),
                                                               body=m.OtpRequest(phone=phone))
    assert sent.status_code == 202 and isinstance(sent.parsed, m.OtpSent), sent.content
    form = m.OtpGrantForm(client_id=m.OtpGrantFormClientId.PUBLIC_APP, phone=phone, code=sms_code(settings, phone),
                          grant_type=m.OtpGrantFormGrantType.URNJIANWUOTP)
    answer = await _op("auth.auth_token").asyncio_detailed(client=_client(test_client), body=form)
    assert answer.status_code == 200 and isinstance(answer.parsed, m.TokenResponse), answer.content
    return _client(test_client, answer.parsed.access_token)


async def _handle(office: Any, receipt_no: str) -> Any:
    """The office finds the item by its receipt number, accepts it, assigns it at random, replies on progress and
    closes it; answers the closed item as staff see it."""
    m, op = _models(), "complaints.complaint_"
    found = await _op(op + "list").asyncio_detailed(client=office, receipt_no=receipt_no)
    assert found.status_code == 200 and isinstance(found.parsed, m.PageListItem), found.content
    assert [i.receipt_no for i in found.parsed.items] == [receipt_no]
    cid = found.parsed.items[0].id

    accepted = await _op(op + "step").asyncio_detailed(cid, client=office, body=m.StepIn(step=m.StepInStep.ACCEPT),
                                                        idempotency_key=_key())
    assert accepted.status_code == 200 and isinstance(accepted.parsed, m.StaffComplaint), accepted.content
    assert accepted.parsed.state == m.StaffComplaintState.ACCEPTED and "close" in accepted.parsed.available_steps

    assigned = await _op(op + "assign").asyncio_detailed(cid, client=office,
                                                          body=m.AssignmentIn(mode=m.AssignmentInMode.RANDOM))
    assert assigned.status_code == 200 and isinstance(assigned.parsed, m.StaffComplaint), assigned.content
    assert assigned.parsed.state == m.StaffComplaintState.IN_PROGRESS and assigned.parsed.assignee_id

    progress = m.ReplyIn(kind=m.ReplyInKind.PROGRESS, text="正在调查核实中。")
    replied = await _op(op + "reply").asyncio_detailed(cid, client=office, body=progress, idempotency_key=_key())
    assert replied.status_code == 201 and isinstance(replied.parsed, m.StaffComplaint), replied.content
    assert any(e.type_ == m.EventOutType.REPLY_PROGRESS for e in replied.parsed.timeline)

    noted = await _op(op + "note").asyncio_detailed(cid, client=office, body=m.NoteIn(text="内部：已约谈窗口负责人"),
                                                     idempotency_key=_key())
    assert noted.status_code == 201 and isinstance(noted.parsed, m.StaffComplaint), noted.content

    closed = await _op(op + "step").asyncio_detailed(
        cid, client=office, body=m.StepIn(step=m.StepInStep.CLOSE, disposition="已责令退还多收费用",
                                          reply="经核查，已责令退还多收费用。"), idempotency_key=_key())
    assert closed.status_code == 200 and isinstance(closed.parsed, m.StaffComplaint), closed.content
    assert closed.parsed.state == m.StaffComplaintState.CLOSED and closed.parsed.disposition == "已责令退还多收费用"
    return closed.parsed


async def test_anonymous_filing_to_rated_closure(generated, client) -> None:  # noqa: ANN001
    m, op = _models(), "complaints.complaint_"
    public = _client(client)
    catalog = await _op(op + "catalog").asyncio_detailed("jinshan", client=public)
    assert catalog.status_code == 200 and isinstance(catalog.parsed, m.Catalog), catalog.content
    assert "accusation" in {c.code for c in catalog.parsed.categories}

    body = m.AnonymousCreate(**FILING)
    key = _key()
    filed = await _op(op + "file_anonymous").asyncio_detailed(client=public, body=body, idempotency_key=key)
    assert filed.status_code == 201, filed.content
    receipt = filed.parsed
    assert isinstance(receipt, m.ComplaintReceipt) and receipt.query_code
    assert filed.headers["location"].endswith(receipt.receipt_no)
    # The retry of a filing whose answer was lost gets the same receipt, marked as replayed.
    again = await _op(op + "file_anonymous").asyncio_detailed(client=public, body=body, idempotency_key=key)
    assert again.parsed.receipt_no == receipt.receipt_no and again.headers["idempotent-replayed"] == "true"

    track = _op(op + "get_anonymous")
    seen = await track.asyncio_detailed(receipt.receipt_no, client=public, x_query_code=receipt.query_code)
    assert seen.status_code == 200 and isinstance(seen.parsed, m.PublicComplaint), seen.content
    assert seen.parsed.state == m.PublicComplaintState.RECEIVED and not seen.parsed.can_rate

    await _handle(await _signed_in(client, "jinshan.complaints_office"), receipt.receipt_no)

    followed = await track.asyncio_detailed(receipt.receipt_no, client=public, x_query_code=receipt.query_code)
    assert followed.parsed.state == m.PublicComplaintState.CLOSED and followed.parsed.can_rate
    texts = [e.body for e in followed.parsed.timeline]
    assert "经核查，已责令退还多收费用。" in texts and not any("内部" in (t or "") for t in texts)
    rating = m.RatingIn(score=5, comment="处理及时")
    rated = await _op(op + "rate_anonymous").asyncio_detailed(
        receipt.receipt_no, client=public, x_query_code=receipt.query_code, body=rating)
    assert rated.status_code == 200 and isinstance(rated.parsed, m.PublicComplaint), rated.content
    assert rated.parsed.rating == 5 and not rated.parsed.can_rate
    twice = await _op(op + "rate_anonymous").asyncio_detailed(
        receipt.receipt_no, client=public, x_query_code=receipt.query_code, body=m.RatingIn(score=1))
    assert twice.status_code == 409 and isinstance(twice.parsed, m.Problem)


async def test_citizen_filing_to_rated_closure(generated, client, settings) -> None:  # noqa: ANN001
    m, op = _models(), "complaints.complaint_"
    me = await _citizen(client, settings)
    body = m.ComplaintCreate(**FILING)
    key = _key()
    filed = await _op(op + "file").asyncio_detailed(client=me, body=body, idempotency_key=key)
    assert filed.status_code == 201 and isinstance(filed.parsed, m.ComplaintReceipt), filed.content
    again = await _op(op + "file").asyncio_detailed(client=me, body=body, idempotency_key=key)
    assert again.parsed.id == filed.parsed.id and again.headers["idempotent-replayed"] == "true"
    # A filing without its key is refused with a problem, not filed twice.
    bare = await _op(op + "file").asyncio_detailed(client=me, body=body, idempotency_key="")
    assert bare.status_code == 400 and isinstance(bare.parsed, m.Problem)

    mine = await _op(op + "list_own").asyncio_detailed(client=me)
    assert mine.status_code == 200 and isinstance(mine.parsed, m.PageListItem), mine.content
    assert [i.id for i in mine.parsed.items] == [filed.parsed.id]

    closed = await _handle(await _signed_in(client, "jinshan.complaints_office"), filed.parsed.receipt_no)
    assert closed.id == filed.parsed.id

    seen = await _op(op + "get_own").asyncio_detailed(filed.parsed.id, client=me)
    assert seen.status_code == 200 and isinstance(seen.parsed, m.PublicComplaint), seen.content
    assert seen.parsed.state == m.PublicComplaintState.CLOSED and seen.parsed.can_rate
    rated = await _op(op + "rate").asyncio_detailed(filed.parsed.id, client=me, body=m.RatingIn(score=4))
    assert rated.status_code == 200 and isinstance(rated.parsed, m.PublicComplaint), rated.content
    assert rated.parsed.rating == 4


async def test_a_public_interest_clue_is_registered_and_listed(generated, client) -> None:  # noqa: ANN001
    m, op = _models(), "litigation.litigation_clue_"
    prosecutor = await _signed_in(client, "jinshan.prosecutor")
    title = f"河道企业偷排污水{uuid.uuid4().hex[:6]}"
    body = m.ClueCreate(domain="ecology_environment", title=title, description="巡查发现排污口持续排放污水。",
                        place=m.Place(address="上海市金山区合同路1号", latitude=30.7, longitude=121.3),
                        public_interest="河道水质受损")
    created = await _op(op + "create").asyncio_detailed(client=prosecutor, body=body, idempotency_key=_key())
    assert created.status_code == 201 and isinstance(created.parsed, m.ClueOut), created.content
    assert created.parsed.state == m.ClueOutState.REGISTERED and created.parsed.clue_no

    listed = await _op(op + "list").asyncio_detailed(client=prosecutor, q=title,
                                                      state=m.LitigationClueListState.REGISTERED)
    assert listed.status_code == 200 and isinstance(listed.parsed, m.PageClueItem), listed.content
    assert [c.clue_no for c in listed.parsed.items] == [created.parsed.clue_no]
    seen = await _op(op + "get").asyncio_detailed(created.parsed.id, client=prosecutor)
    assert seen.status_code == 200 and isinstance(seen.parsed, m.ClueOut), seen.content
    assert seen.parsed.title == title and "evaluate" in {s.name for s in seen.parsed.available_steps}


async def test_a_deputy_s_suggestion_is_submitted_logged_and_read(generated, client) -> None:  # noqa: ANN001
    m, op = _models(), "liaison.liaison_"
    deputy = await _signed_in(client, "jinshan.deputy", app="REPRESENTATIVE_APP")
    suggestion = m.SuggestionSubmit(title="关于加强河道污染治理的建议", body="建议对沿河企业排污开展专项监督。")
    submitted = await _op(op + "rep_suggest").asyncio_detailed(client=deputy, body=suggestion, idempotency_key=_key())
    assert submitted.status_code == 201 and isinstance(submitted.parsed, m.RepSuggestion), submitted.content
    assert submitted.parsed.state == m.RepSuggestionState.SUBMITTED and submitted.parsed.deadlines

    office = await _signed_in(client, "jinshan.liaison_office")
    entry = await _op(op + "rep_me").asyncio_detailed(client=deputy)
    assert entry.status_code == 200 and isinstance(entry.parsed, m.RepresentativeOut), entry.content
    # The office logs one the same deputy made at a session of the congress.
    logged = await _op(op + "suggestion_log").asyncio_detailed(
        client=office, idempotency_key=_key(),
        body=m.SuggestionLog(representative_id=entry.parsed.id, channel=m.SuggestionLogChannel.SESSION,
                             title="关于公益诉讼宣传的建议", body="建议在社区开展公益诉讼宣传。"))
    assert logged.status_code == 201 and isinstance(logged.parsed, m.StaffSuggestion), logged.content
    assert logged.parsed.channel == "session" and logged.parsed.representative

    listed = await _op(op + "suggestion_list").asyncio_detailed(client=office, representative=entry.parsed.id,
                                                                state=m.LiaisonSuggestionListState.SUBMITTED, limit=200)
    assert listed.status_code == 200 and isinstance(listed.parsed, m.PageSuggestionItem), listed.content
    assert {submitted.parsed.id, logged.parsed.id} <= {s.id for s in listed.parsed.items}
    seen = await _op(op + "suggestion_get").asyncio_detailed(submitted.parsed.id, client=office)
    assert seen.status_code == 200 and isinstance(seen.parsed, m.StaffSuggestion), seen.content
    assert seen.parsed.number == submitted.parsed.number
    # The deputy sees the logged one among their own.
    own = await _op(op + "rep_suggestion_list").asyncio_detailed(client=deputy, limit=100)
    assert own.status_code == 200 and isinstance(own.parsed, m.PageSuggestionItem), own.content
    assert logged.parsed.id in {s.id for s in own.parsed.items}
