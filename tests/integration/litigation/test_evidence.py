"""Field evidence: each file of a case is recorded with its SHA-256, the device's and the file's own time and place,
and the capturing staff, chained to the entry before; any later change to an entry or to a file's recorded hash is
reported by the verification route."""

from __future__ import annotations

from typing import Any

from tests.helpers import key
from tests.unit.attachments.files import JINSHAN, exif_with, jpeg

CASES = "/api/v1/staff/litigation/cases"


async def _case(conn: Any) -> str:
    """An open demo case of jinshan (investigating)."""
    return str(await conn.fetchval("select id from pil_cases where office_id = (select id from offices where code = "
                                   "'jinshan') and state = 'investigating' order by created_at limit 1"))


async def _upload(client: Any, url: str, headers: dict[str, str], data: bytes) -> str:
    up = await client.post(f"{url}/attachments", headers={**headers, **key()},
                           files={"file": ("现场.jpg", data, "image/jpeg")})
    assert up.status_code == 201, up.text
    return str(up.json()["id"])


async def test_evidence_is_chained_and_tampering_is_detected(client, staff, conn) -> None:  # noqa: ANN001
    prosecutor = await staff("jinshan", "prosecutor")
    url = f"{CASES}/{await _case(conn)}"
    before = (await client.get(f"{url}/evidence", headers=prosecutor)).json()
    photo = await _upload(client, url, prosecutor, jpeg(exif=exif_with(gps=True)))
    other = await _upload(client, url, prosecutor, jpeg())
    ids = [str(r["id"]) for r in await conn.fetch("select id from users where username = any($1::text[]) "
                                                  "order by username", ["jinshan.prosecutor", "jinshan.assistant"])]

    # Recorded offline later: the device's capture time and place are kept beside the file's own and the server's.
    first = await client.post(f"{url}/evidence", headers={**prosecutor, **key()}, json={
        "attachmentId": photo, "kind": "photo", "capturedAt": "2026-11-20T09:30:00+08:00", "latitude": 30.74,
        "longitude": 121.34, "address": "张堰镇某河段排污口"})
    assert first.status_code == 201, first.text
    entry = first.json()
    assert entry["seq"] == len(before) + 1 and entry["capturedAt"].startswith("2026-11-20T01:30:00")
    assert abs(entry["fileLatitude"] - JINSHAN[0]) < 1e-4 and entry["latitude"] == 30.74
    assert entry["sha256"] == (await conn.fetchval("select sha256 from attachments where id = $1", photo))
    # A site inspection names at least two staff of the office; a stranger's id is refused.
    single = await client.post(f"{url}/evidence", headers={**prosecutor, **key()},
                               json={"attachmentId": other, "kind": "site_inspection", "staff": ids[:1]})
    assert single.status_code == 400 and single.json()["errors"][0]["field"] == "staff"
    stranger = str(await conn.fetchval("select id from users where username = 'chongming.prosecutor'"))
    foreign = await client.post(f"{url}/evidence", headers={**prosecutor, **key()},
                                json={"attachmentId": other, "kind": "site_inspection", "staff": [ids[0], stranger]})
    assert foreign.status_code == 400
    future = await client.post(f"{url}/evidence", headers={**prosecutor, **key()},
                               json={"attachmentId": other, "kind": "photo", "capturedAt": "2099-01-01T00:00:00Z"})
    assert future.status_code == 400 and future.json()["errors"][0]["field"] == "capturedAt"
    second = await client.post(f"{url}/evidence", headers={**prosecutor, **key()},
                               json={"attachmentId": other, "kind": "site_inspection", "staff": ids})
    assert second.status_code == 201 and second.json()["prevHash"] == entry["entryHash"]
    assert sorted(second.json()["staff"]) == sorted(ids)
    again = await client.post(f"{url}/evidence", headers={**prosecutor, **key()},
                              json={"attachmentId": other, "kind": "photo"})
    assert again.status_code == 400

    verdict = (await client.get(f"{url}/evidence/verification", headers=prosecutor)).json()
    assert verdict == {"intact": True, "entries": len(before) + 2, "head": second.json()["entryHash"], "broken": []}
    # Another office cannot read it; the chain shows on the timeline.
    assert (await client.get(f"{url}/evidence", headers=await staff("chongming", "prosecutor"))).status_code == 404
    case = (await client.get(url, headers=prosecutor)).json()
    assert [e["data"]["seq"] for e in case["timeline"] if e["type"] == "evidence.recorded"][-2:] == [
        entry["seq"], entry["seq"] + 1]

    # Someone with database rights moves the capture place, then the file's hash: both are found.
    await conn.execute("update pil_evidence set address = '别处' where attachment_id = $1", photo)
    broken = (await client.get(f"{url}/evidence/verification", headers=prosecutor)).json()
    assert broken["intact"] is False
    assert broken["broken"] == [{"seq": entry["seq"], "problems": ["entry changed since it was recorded"]}]
    await conn.execute("update pil_evidence set address = '张堰镇某河段排污口' where attachment_id = $1", photo)
    await conn.execute("update attachments set sha256 = repeat('0', 64) where id = $1", other)
    broken = (await client.get(f"{url}/evidence/verification", headers=prosecutor)).json()
    assert broken["broken"] == [{"seq": entry["seq"] + 1,
                                 "problems": ["the file's hash differs from the one recorded"]}]


async def test_the_app_role_cannot_rewrite_evidence_or_an_issued_recommendation(conn) -> None:  # noqa: ANN001
    privileges = dict(await conn.fetch(
        "select privilege_type, count(*) from information_schema.role_table_grants where grantee = 'jianwu_app' "
        "and table_name = 'pil_evidence' group by privilege_type"))
    assert set(privileges) == {"SELECT", "INSERT"}
    columns = {r["column_name"] for r in await conn.fetch(
        "select column_name from information_schema.column_privileges where grantee = 'jianwu_app' "
        "and table_name = 'pil_recommendations' and privilege_type = 'UPDATE'")}
    assert columns == {"received_at", "received_by", "replied_at", "reply_text", "reply_rectified", "reply_late"}
