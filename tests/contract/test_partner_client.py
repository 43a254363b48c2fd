"""The partner-only OpenAPI document is usable by real tooling: a Python client generated from it (served at
/api/v1/partner/openapi.json) with no warnings signs in with client_credentials and drives a police clue
transfer end to end, with no hand-written HTTP on the partner's side."""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from auth.demo import DEMO_CLIENT_SECRET
from tests.contract import generate
from tests.helpers import bearer, token_for

CONFIG = Path(__file__).with_name("partner-client.yaml")


@pytest.fixture(name="partner_sdk")
async def fx_partner_sdk(client, tmp_path: Path) -> object:
    """The client package generated from the served partner document, imported."""
    served = await client.get("/api/v1/partner/openapi.json")
    assert served.status_code == 200
    document = served.json()
    assert all(p.startswith("/api/v1/partner/") or p == "/api/v1/auth/token" for p in document["paths"])
    spec = tmp_path / "partners.json"
    spec.write_text(json.dumps(document))
    out = tmp_path / "jianwu_partner"
    generate(spec, CONFIG, out)
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("jianwu_partner")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("jianwu_partner")]:
            del sys.modules[name]


def _sdk_client(test_client: httpx.AsyncClient, token: str | None = None) -> object:
    """A generated client whose requests go to the app under test (the test client's transport)."""
    module = importlib.import_module("jianwu_partner.client")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    made = (module.AuthenticatedClient(base_url=str(test_client.base_url), token=token) if token
            else module.Client(base_url=str(test_client.base_url)))
    made.set_async_httpx_client(httpx.AsyncClient(transport=test_client._transport,
                                                  base_url=test_client.base_url, headers=headers))
    return made


async def test_a_generated_client_transfers_a_clue_and_sees_it_accepted(partner_sdk, client) -> None:
    models = importlib.import_module("jianwu_partner.models")
    api = "jianwu_partner.api."
    token_op = importlib.import_module(api + "auth.auth_token")
    transfer = importlib.import_module(api + "partner.partner_clue_transfer")
    follow = importlib.import_module(api + "partner.partner_clue_get")

    signed_in = await token_op.asyncio_detailed(client=_sdk_client(client), body=models.ClientCredentialsGrantForm(
        grant_type=models.ClientCredentialsGrantFormGrantType.CLIENT_CREDENTIALS, client_id="jinshan-police",
        client_secret=DEMO_CLIENT_SECRET))
    assert signed_in.status_code == 200, signed_in.content
    police = _sdk_client(client, signed_in.parsed.access_token)

    ref = f"SDK-{uuid.uuid4().hex[:8]}"
    body = models.ClueTransferIn(case_ref=ref, category="duty-crime", title="办案中发现司法工作人员受贿线索",
                                 body="犯罪嫌疑人供述曾向某派出所民警行贿。",
                                 fields=models.ClueTransferInFields.from_dict({"unit": "某派出所"}),
                                 caller=models.Visitor(name="赵某", phone="13600003333"))
    key = f"sdk-{uuid.uuid4()}"
    sent = await transfer.asyncio_detailed(client=police, body=body, idempotency_key=key)
    assert sent.status_code == 201, sent.content
    assert isinstance(sent.parsed, models.TransferOut) and sent.parsed.accepted is None
    again = await transfer.asyncio_detailed(client=police, body=body, idempotency_key=key)
    assert again.headers["idempotent-replayed"] == "true" and again.parsed.item.id == sent.parsed.item.id

    office = bearer(await token_for(client, "jinshan.complaints_office"))
    step = await client.post(f"/api/v1/staff/complaints/{sent.parsed.item.id}/steps", headers=office,
                             json={"step": "accept"})
    assert step.status_code == 200, step.text
    seen = await follow.asyncio_detailed(ref, client=police)
    assert seen.status_code == 200 and seen.parsed.accepted is True and seen.parsed.item.state == "accepted"
    missing = await follow.asyncio_detailed("SDK-none", client=police)
    assert missing.status_code == 404 and isinstance(missing.parsed, models.Problem)
