"""The committed spec is a contract: a Python client generated from it with no warnings drives the anonymous
filing and staff handling of a complaint against the app, with no hand-written HTTP."""

from __future__ import annotations

import importlib
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from api.spec import COMMITTED
from tests.contract import generate
from tests.helpers import token_for

CONFIG = Path(__file__).with_name("python-client.yaml")


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


def _client(generated: object, test_client: httpx.AsyncClient, token: str | None = None) -> object:
    """A generated client whose requests go to the app under test (the test client's transport)."""
    client_module = importlib.import_module("jianwu_client.client")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = client_module.Client(base_url=str(test_client.base_url))
    client.set_async_httpx_client(httpx.AsyncClient(transport=test_client._transport,
                                                    base_url=test_client.base_url, headers=headers))
    return client


async def test_anonymous_filing_and_staff_handling(generated, client) -> None:
    api = "jianwu_client.api.complaints."
    file_anonymous = importlib.import_module(api + "complaint_file_anonymous")
    get_anonymous = importlib.import_module(api + "complaint_get_anonymous")
    staff_list = importlib.import_module(api + "complaint_list")
    step = importlib.import_module(api + "complaint_step")
    models = importlib.import_module("jianwu_client.models")

    public = _client(generated, client)
    body = models.AnonymousCreate(office="jinshan", category="accusation", title="某单位违规收费",
                                  body="2026年11月在某窗口办事时被收取不合理费用，请依法处理。")
    key = f"contract-{uuid.uuid4()}"
    filed = await file_anonymous.asyncio_detailed(client=public, body=body, idempotency_key=key)
    assert filed.status_code == 201, filed.content
    receipt = filed.parsed
    assert isinstance(receipt, models.ComplaintReceipt) and receipt.query_code
    # The retry of a filing whose answer was lost gets the same receipt, marked as replayed.
    again = await file_anonymous.asyncio_detailed(client=public, body=body, idempotency_key=key)
    assert again.parsed.receipt_no == receipt.receipt_no and again.headers["idempotent-replayed"] == "true"

    seen = await get_anonymous.asyncio_detailed(receipt.receipt_no, client=public, x_query_code=receipt.query_code)
    assert seen.status_code == 200 and seen.parsed.state == "received"

    token = (await token_for(client, "jinshan.complaints_office"))["access_token"]
    office = _client(generated, client, token)
    found = await staff_list.asyncio_detailed(client=office, receipt_no=receipt.receipt_no)
    assert found.status_code == 200, found.content
    assert [i.receipt_no for i in found.parsed.items] == [receipt.receipt_no]
    accepted = await step.asyncio_detailed(found.parsed.items[0].id, client=office,
                                           body=models.StepIn(step=models.StepInStep.ACCEPT), idempotency_key=f"step-{uuid.uuid4()}")
    assert accepted.status_code == 200, accepted.content
    assert accepted.parsed.state == "accepted"

    followed = await get_anonymous.asyncio_detailed(receipt.receipt_no, client=public, x_query_code=receipt.query_code)
    assert followed.parsed.state == "accepted"
