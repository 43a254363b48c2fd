"""Attachments over HTTP: staff get the original (EXIF and location kept), the complainant only the stripped public
copy; renamed binaries, oversized and broken files are refused; retries store one file; strangers get 404."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import uuid

import pytest
from PIL import ExifTags, Image

from tests.helpers import citizen, item, key
from tests.unit.attachments.files import ELF, JINSHAN, exif_with, jpeg

PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 200
MIB = 1024 * 1024


def _photo() -> bytes:
    return jpeg(exif=exif_with(gps=True))


def _files(data: bytes, name: str = "现场照片.jpg", media_type: str = "image/jpeg") -> dict:
    return {"file": (name, data, media_type)}


def _uploads(settings) -> set[str]:  # noqa: ANN001
    root = settings.data_path / "uploads"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _gps(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as img:
        return dict(img.getexif().get_ifd(ExifTags.IFD.GPSInfo))


async def _file_as_citizen(client, settings, **over):  # noqa: ANN001, ANN003, ANN202
    me = await citizen(client, settings)
    resp = await client.post("/api/v1/me/complaints", headers={**me, **key()}, json=item(**over))
    assert resp.status_code == 201, resp.text
    return me, resp.json()["id"]


@pytest.fixture(name="filed")
async def fx_filed(client, settings):  # noqa: ANN001, ANN201
    me, cid = await _file_as_citizen(client, settings)
    return {"me": me, "id": cid, "url": f"/api/v1/me/complaints/{cid}/attachments",
            "staff_url": f"/api/v1/staff/complaints/{cid}/attachments"}


async def test_staff_get_the_original_and_the_citizen_a_stripped_copy(client, staff, conn, settings, filed) -> None:  # noqa: ANN001
    photo = _photo()
    assert _gps(photo)  # the fixture really carries a location
    up = await client.post(filed["url"], headers={**filed["me"], **key()}, files=_files(photo))
    assert up.status_code == 201, up.text
    att = up.json()
    assert up.headers["location"] == f"{filed['url']}/{att['id']}"
    assert att["mediaType"] == "image/jpeg" and att["size"] == len(photo)
    assert att["sha256"] == hashlib.sha256(photo).hexdigest()
    assert att["latitude"] is None and att["longitude"] is None and att["capturedAt"] is None

    office = await staff("jinshan", "complaints_office")
    original = await client.get(f"{filed['staff_url']}/{att['id']}", headers=office)
    assert original.status_code == 200, original.text
    assert hashlib.sha256(original.content).hexdigest() == att["sha256"]
    assert original.content == photo
    assert _gps(original.content)  # staff keep the location
    assert original.headers["content-type"].startswith("image/jpeg")
    assert original.headers["etag"] == f'"{att["sha256"]}"'
    assert original.headers["x-content-type-options"] == "nosniff"
    assert original.headers["cache-control"] == "private, no-store"
    disposition = original.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.jpg" in disposition  # 现场照片.jpg
    again = await client.get(f"{filed['staff_url']}/{att['id']}",
                             headers={**office, "If-None-Match": original.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    stripped = await client.get(f"{filed['url']}/{att['id']}", headers=filed["me"])
    assert stripped.status_code == 200, stripped.text
    assert stripped.headers["content-type"].startswith("image/jpeg")
    assert stripped.headers["x-content-type-options"] == "nosniff"
    assert stripped.headers["cache-control"] == "private, no-store"
    assert stripped.headers["content-disposition"].startswith("attachment;")
    assert stripped.headers["etag"] not in ("", original.headers["etag"])
    assert stripped.content != photo
    with Image.open(io.BytesIO(stripped.content)) as img:
        assert img.format == "JPEG" and img.size == (40, 20)
        assert not img.getexif() and "exif" not in img.info
    assert b"Exif\x00\x00" not in stripped.content and b"HUAWEI" not in stripped.content

    # Staff see where the photo was taken; the complainant's view of the item never does.
    staff_view = (await client.get(f"/api/v1/staff/complaints/{filed['id']}", headers=office)).json()
    listed = {a["id"]: a for a in staff_view["attachments"]}[att["id"]]
    assert listed["latitude"] == pytest.approx(JINSHAN[0], abs=1e-6)
    assert listed["longitude"] == pytest.approx(JINSHAN[1], abs=1e-6)
    assert listed["capturedAt"] == "2025-09-26T02:11:12Z"  # 10:11:12 +08:00
    mine = (await client.get(f"/api/v1/me/complaints/{filed['id']}", headers=filed["me"])).json()
    assert [(a["id"], a["latitude"], a["longitude"], a["capturedAt"]) for a in mine["attachments"]] == [
        (att["id"], None, None, None)]
    assert any(e["type"] == "attachment" and e["public"] for e in mine["timeline"])

    # One transaction wrote the row, the timeline event, the outbox event and the audit record.
    row = await conn.fetchrow("select * from attachments where id = $1::uuid", att["id"])
    assert row["uploaded_by"].startswith("citizen:") and row["declared_name"] == "现场照片.jpg"
    assert row["public_key"].startswith("public/") and row["original_key"].startswith("originals/")
    # Encrypted at rest: the disk holds neither the photo nor its location, only the sealed object.
    on_disk = (settings.data_path / "uploads" / row["original_key"]).read_bytes()
    assert on_disk.startswith(b"JWSEAL1\n") and photo not in on_disk and b"Exif" not in on_disk
    assert await conn.fetchval("select count(*) from audit_log where action = 'complaint.attachment_added' "
                               "and object_id = $1 and detail->>'attachmentId' = $2", filed["id"], att["id"]) == 1
    assert await conn.fetchval("select count(*) from outbox where payload->>'attachmentId' = $1", att["id"]) == 1


async def test_a_file_without_location_is_served_as_is_above_the_json_cap(client, staff, filed) -> None:  # noqa: ANN001
    pdf = b"%PDF-1.4\n" + b"0" * (2 * MIB) + b"\n%%EOF\n"  # larger than the 1 MiB JSON body cap
    up = await client.post(filed["url"], headers={**filed["me"], **key()},
                           files=_files(pdf, "C:\\Users\\张三\\证据\"1\".pdf", "application/pdf"))
    assert up.status_code == 201, up.text
    got = await client.get(f"{filed['url']}/{up.json()['id']}", headers=filed["me"])
    assert got.status_code == 200
    assert got.content == pdf and got.headers["content-type"].startswith("application/pdf")
    assert got.headers["etag"] == f'"{hashlib.sha256(pdf).hexdigest()}"'
    disposition = got.headers["content-disposition"]
    assert re.match(r'attachment; filename="[A-Za-z0-9._() -]+\.pdf"; filename\*=UTF-8\'\'', disposition), disposition
    assert "%E5%BC%A0" not in disposition and "Users" not in disposition  # only the last path part is kept


@pytest.mark.parametrize("binary", [ELF, PE], ids=["elf", "pe"])
async def test_renamed_executable_is_415(client, conn, settings, filed, binary) -> None:  # noqa: ANN001
    before = _uploads(settings)
    resp = await client.post(filed["url"], headers={**filed["me"], **key()}, files=_files(binary, "photo.jpg"))
    assert resp.status_code == 415, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == "unsupported_type"
    assert await conn.fetchval("select count(*) from attachments where subject_id = $1::uuid",
                               filed["id"]) == 0
    assert _uploads(settings) == before


@pytest.mark.parametrize(("data", "status", "code"), [
    (b"", 422, "empty"),
    (b"\xff\xd8\xff\xe0" + b"\x13\x37" * 500, 422, "unreadable_image"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * (20 * MIB + 1), 413, "too_large"),  # images: at most 20 MiB
], ids=["empty", "corrupt-jpeg", "image-over-policy"])
async def test_refused_files_map_to_their_status(client, settings, filed, data, status, code) -> None:  # noqa: ANN001
    before = _uploads(settings)
    resp = await client.post(filed["url"], headers={**filed["me"], **key()}, files=_files(data))
    assert resp.status_code == status, resp.text
    assert resp.json()["code"] == code
    assert _uploads(settings) == before


async def test_body_over_the_route_limit_is_413(client, filed) -> None:  # noqa: ANN001
    async def body():  # noqa: ANN202
        yield b"--x\r\n"

    resp = await client.post(filed["url"], headers={
        **filed["me"], **key(), "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(211 * MIB)}, content=body())
    assert resp.status_code == 413, resp.text
    assert resp.json()["code"] == "body_too_large"


async def test_only_multipart_with_a_file_field(client, filed) -> None:  # noqa: ANN001
    as_json = await client.post(filed["url"], headers={**filed["me"], **key()}, json={"file": "x"})
    assert as_json.status_code == 415 and as_json.json()["code"] == "unsupported_media_type"
    no_file = await client.post(filed["url"], headers={**filed["me"], **key()}, files={"other": ("a.jpg", _photo())})
    assert no_file.status_code == 400, no_file.text
    no_key = await client.post(filed["url"], headers=filed["me"], files=_files(_photo()))
    assert no_key.status_code == 400 and no_key.json()["code"] == "idempotency_key_required"


async def test_retry_returns_the_same_attachment_and_stores_once(client, conn, settings, filed) -> None:  # noqa: ANN001
    headers = {**filed["me"], **key()}
    photo = _photo()
    first = await client.post(filed["url"], headers=headers, files=_files(photo))
    assert first.status_code == 201, first.text
    stored = _uploads(settings)
    retry = await client.post(filed["url"], headers=headers, files=_files(photo))
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert await conn.fetchval("select count(*) from attachments where subject_id = $1::uuid",
                               filed["id"]) == 1
    assert _uploads(settings) == stored  # the retry left no second copy behind
    other = await client.post(filed["url"], headers=headers, files=_files(jpeg()))
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert _uploads(settings) == stored


async def test_racing_retries_make_one_attachment_and_keep_one_copy(client, conn, settings, filed,  # noqa: ANN001
                                                                   monkeypatch) -> None:
    from modules.kernel import files as attachments

    headers = {**filed["me"], **key()}
    photo = _photo()
    before = _uploads(settings)
    results = await asyncio.gather(*(client.post(filed["url"], headers=headers, files=_files(photo))
                                     for _ in range(4)))
    ok = [r for r in results if r.status_code == 201]
    assert ok and {r.status_code for r in results} <= {201, 409}, [r.text for r in results]
    assert len({r.json()["id"] for r in ok}) == 1
    # A retry that looked for a stored answer just before the first upload committed stores the file again,
    # then is answered from the key: its copy must go.
    monkeypatch.setattr(attachments, "answered", _never_answered)
    late = await client.post(filed["url"], headers=headers, files=_files(photo))
    assert late.status_code == 201 and late.headers["idempotent-replayed"] == "true"
    assert late.json()["id"] == ok[0].json()["id"]
    rows = await conn.fetch("select original_key, public_key from attachments where subject_id = $1::uuid",
                            filed["id"])
    assert len(rows) == 1
    assert _uploads(settings) - before == {rows[0]["original_key"], rows[0]["public_key"]}


async def _never_answered(*args, **kwargs) -> bool:  # noqa: ANN002, ANN003
    return False


async def test_concluded_items_take_no_files(client, staff, conn, settings, filed) -> None:  # noqa: ANN001
    office = await staff("jinshan", "complaints_office")
    done = {**filed["me"], **key()}
    first = await client.post(filed["url"], headers=done, files=_files(jpeg()))
    assert first.status_code == 201, first.text
    referred = await client.post(f"/api/v1/staff/complaints/{filed['id']}/steps", headers=office,
                                 json={"step": "refer", "referredTo": "区公安分局"})
    assert referred.status_code == 200, referred.text
    before = _uploads(settings)
    for url, headers in ((filed["url"], filed["me"]), (filed["staff_url"], office)):
        resp = await client.post(url, headers={**headers, **key()}, files=_files(_photo()))
        assert resp.status_code == 409, resp.text
        assert resp.json()["code"] == "conflict"
    # A retry of an upload made before the item was concluded still gets its first answer.
    retry = await client.post(filed["url"], headers=done, files=_files(jpeg()))
    assert retry.status_code == 201 and retry.json()["id"] == first.json()["id"]
    assert _uploads(settings) == before
    assert await conn.fetchval("select count(*) from attachments where subject_id = $1::uuid",
                               filed["id"]) == 1


async def test_strangers_get_404_on_upload_and_download(client, staff, conn, settings, filed) -> None:  # noqa: ANN001
    up = await client.post(filed["url"], headers={**filed["me"], **key()}, files=_files(_photo()))
    assert up.status_code == 201
    aid = up.json()["id"]
    before = _uploads(settings)
    stranger = await citizen(client, settings)
    others = [("chongming", role) for role in ("complaints_office", "chief")]
    calls = [(filed["url"], stranger)] + [(filed["staff_url"], await staff(*o)) for o in others]
    for url, headers in calls:
        posted = await client.post(url, headers={**headers, **key()}, files=_files(_photo()))
        assert posted.status_code == 404, (url, posted.text)
        assert posted.json()["code"] == "not_found"
        fetched = await client.get(f"{url}/{aid}", headers=headers)
        assert fetched.status_code == 404, (url, fetched.text)
    # An attachment id from another item is not reachable through an item the caller may see.
    _, other_cid = await _file_as_citizen(client, settings)
    office = await staff("jinshan", "complaints_office")
    elsewhere = await client.get(f"/api/v1/staff/complaints/{other_cid}/attachments/{aid}", headers=office)
    assert elsewhere.status_code == 404
    assert (await client.get(f"{filed['staff_url']}/{uuid.uuid4()}", headers=office)).status_code == 404
    assert _uploads(settings) == before
    assert await conn.fetchval("select count(*) from attachments where subject_id = $1::uuid",
                               filed["id"]) == 1


async def test_anonymous_upload_and_download_with_the_query_code(client, staff, conn, settings) -> None:  # noqa: ANN001
    filed = await client.post("/api/v1/public/complaints", headers=key(), json=item())
    assert filed.status_code == 201, filed.text
    receipt = filed.json()
    url = f"/api/v1/public/complaints/{receipt['receiptNo']}/attachments"
    follow = {"X-Query-Code": receipt["queryCode"]}
    wrong = {"X-Query-Code": "WRONGCODE00"}
    before = _uploads(settings)
    refused = await client.post(url, headers={**wrong, **key()}, files=_files(_photo()))
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert _uploads(settings) == before

    photo = _photo()
    up = await client.post(url, headers={**follow, **key()}, files=_files(photo))
    assert up.status_code == 201, up.text
    aid = up.json()["id"]
    assert up.json()["latitude"] is None
    got = await client.get(f"{url}/{aid}", headers=follow)
    assert got.status_code == 200, got.text
    assert got.content != photo and not _gps(got.content)
    assert got.headers["x-content-type-options"] == "nosniff"
    assert (await client.get(f"{url}/{aid}", headers=wrong)).status_code == 404
    assert (await client.get(f"{url}/{aid}")).status_code == 400  # the code is required

    seen = (await client.get(f"/api/v1/public/complaints/{receipt['receiptNo']}", headers=follow)).json()
    assert [(a["id"], a["latitude"]) for a in seen["attachments"]] == [(aid, None)]
    original = await client.get(f"/api/v1/staff/complaints/{receipt['id']}/attachments/{aid}",
                                headers=await staff("jinshan", "complaints_office"))
    assert original.content == photo
    assert await conn.fetchval("select uploaded_by from attachments where id = $1::uuid", aid) == "anonymous"


async def test_staff_files_stay_internal(client, staff, filed) -> None:  # noqa: ANN001
    office = await staff("jinshan", "complaints_office")
    photo = _photo()
    up = await client.post(filed["staff_url"], headers={**office, **key()}, files=_files(photo, "勘验.jpg"))
    assert up.status_code == 201, up.text
    aid = up.json()["id"]
    assert up.json()["latitude"] == pytest.approx(JINSHAN[0], abs=1e-6)  # staff see the location at once
    got = await client.get(f"{filed['staff_url']}/{aid}", headers=await staff("jinshan", "prosecutor"))
    assert got.status_code == 200 and got.content == photo
    # The complainant neither lists nor downloads it, and its timeline entry is internal.
    mine = (await client.get(f"/api/v1/me/complaints/{filed['id']}", headers=filed["me"])).json()
    assert mine["attachments"] == [] and all(e["type"] != "attachment" for e in mine["timeline"])
    assert (await client.get(f"{filed['url']}/{aid}", headers=filed["me"])).status_code == 404
    view = (await client.get(f"/api/v1/staff/complaints/{filed['id']}", headers=office)).json()
    assert [e["public"] for e in view["timeline"] if e["type"] == "attachment"] == [False]
    # Uploading needs complaint.note; case management only reads.
    denied = await client.post(filed["staff_url"], headers={**await staff("jinshan", "case_mgmt"), **key()},
                               files=_files(photo))
    assert denied.status_code == 403


async def test_a_failed_transaction_leaves_no_file_behind(client, conn, settings, filed, monkeypatch) -> None:  # noqa: ANN001
    from modules.kernel import files as attachments

    async def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(attachments, "record", broken)
    before = _uploads(settings)
    resp = await client.post(filed["url"], headers={**filed["me"], **key()}, files=_files(_photo()))
    assert resp.status_code == 500
    assert _uploads(settings) == before
    assert await conn.fetchval("select count(*) from attachments where subject_id = $1::uuid",
                               filed["id"]) == 0


@pytest.mark.parametrize("part_headers", [
    b'Content-Disposition: form-data; name="file"',  # no filename: Litestar decodes the part as text
    b'Content-Disposition: form-data; name="file"\r\nContent-Type: text/plain; charset=no-such-charset',
])
async def test_a_binary_part_without_filename_is_400_not_500(client, filed, part_headers) -> None:  # noqa: ANN001
    # Found by the API fuzzing (tests/fuzz): a PNG sent as a plain form field made the multipart parser raise
    # UnicodeDecodeError (an unknown charset, LookupError), answered as a 500.
    boundary = "fuzz" + uuid.uuid4().hex
    body = (f"--{boundary}\r\n".encode() + part_headers + b"\r\n\r\n" + b"\x89PNG\r\n\x1a\n\x00\xff"
            + f"\r\n--{boundary}--\r\n".encode())
    for url, headers in ((filed["url"], filed["me"]), (filed["staff_url"], {})):
        resp = await client.post(url, content=body, headers={
            **headers, **key(), "Content-Type": f"multipart/form-data; boundary={boundary}"})
        if not headers:  # the staff route refuses the anonymous caller before reading the body
            assert resp.status_code == 401, resp.text
            continue
        assert resp.status_code == 400, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["code"] == "malformed_body"
