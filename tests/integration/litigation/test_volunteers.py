"""Volunteers 益心为公 over HTTP: a citizen applies, the office approves, the volunteer submits a clue with a photo
from the scene and follows what became of it, seeing nothing internal; the name is stored encrypted and shown to
staff masked."""

from __future__ import annotations

from tests.helpers import citizen, key
from tests.unit.attachments.files import exif_with, jpeg

ME = "/api/v1/me/litigation"
STAFF = "/api/v1/staff/litigation"


async def test_a_volunteer_is_approved_then_submits_and_follows_a_clue(client, staff, settings, conn) -> None:  # noqa: ANN001
    me = await citizen(client, settings)
    clue = {"office": "jinshan", "domain": "ecology_environment", "title": "湿地被倾倒建筑垃圾",
            "description": "湿地边缘堆放大量建筑垃圾。", "place": {"address": "上海市金山区某湿地", "latitude": 30.8,
                                                                  "longitude": 121.2}}
    # Not yet a volunteer: no clue.
    assert (await client.post(f"{ME}/clues", headers={**me, **key()}, json=clue)).status_code == 403
    applied = await client.post(f"{ME}/volunteer-applications", headers={**me, **key()},
                                json={"office": "jinshan", "name": "赵志愿", "area": "金山区", "expertise": "环境监测"})
    assert applied.status_code == 201 and applied.json()["state"] == "applied"
    again = await client.post(f"{ME}/volunteer-applications", headers={**me, **key()},
                              json={"office": "jinshan", "name": "赵志愿", "area": "金山区"})
    assert again.status_code == 409
    nowhere = await client.post(f"{ME}/volunteer-applications", headers={**me, **key()},
                                json={"office": "atlantis", "name": "赵志愿", "area": "金山区"})
    assert nowhere.status_code == 404
    stored = await conn.fetchval("select name_enc from pil_volunteers where id = $1", applied.json()["id"])
    assert "赵志愿" not in stored

    # Staff see the application with the name masked; only those the list names may decide; another office: 404.
    head = await staff("jinshan", "dept_head")
    listed = (await client.get(f"{STAFF}/volunteers", headers=head, params={"state": "applied"})).json()["items"]
    mine = [v for v in listed if v["id"] == applied.json()["id"]]
    assert mine and mine[0]["name"] == "赵**"
    url = f"{STAFF}/volunteers/{applied.json()['id']}/decision"
    assert (await client.post(url, headers=await staff("jinshan", "prosecutor"),
                              json={"decision": "approve"})).status_code == 403
    assert (await client.post(url, headers=await staff("chongming", "dept_head"),
                              json={"decision": "approve"})).status_code == 404
    assert (await client.post(url, headers=head, json={"decision": "approve"})).json()["state"] == "approved"

    # Approved: a clue with a photo from the scene, to this office only.
    elsewhere = await client.post(f"{ME}/clues", headers={**me, **key()}, json={**clue, "office": "chongming"})
    assert elsewhere.status_code == 403
    sent = await client.post(f"{ME}/clues", headers={**me, **key()}, json=clue)
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "received" and set(sent.json()) == {
        "id", "clueNo", "office", "domain", "title", "status", "createdAt"}
    photo = await client.post(f"{ME}/clues/{sent.json()['id']}/attachments", headers={**me, **key()},
                              files={"file": ("现场.jpg", jpeg(exif=exif_with(gps=True)), "image/jpeg")})
    assert photo.status_code == 201 and photo.json()["latitude"] is None

    # Staff evaluate it and see the photo with its place; the volunteer follows the public status only.
    prosecutor = await staff("jinshan", "prosecutor")
    seen = (await client.get(f"{STAFF}/clues/{sent.json()['id']}", headers=prosecutor)).json()
    assert seen["source"] == "volunteer" and seen["attachments"][0]["latitude"] is not None
    await client.post(f"{STAFF}/clues/{sent.json()['id']}/steps", headers=prosecutor, json={"step": "evaluate"})
    followed = (await client.get(f"{ME}/clues/{sent.json()['id']}", headers=me)).json()
    assert followed["status"] == "under_evaluation"
    page = (await client.get(f"{ME}/clues", headers=me)).json()
    assert [c["id"] for c in page["items"]] == [sent.json()["id"]]
    # Another citizen sees none of it.
    other = await citizen(client, settings)
    assert (await client.get(f"{ME}/clues/{sent.json()['id']}", headers=other)).status_code == 404
    assert (await client.get(f"{ME}/clues", headers=other)).json()["items"] == []
