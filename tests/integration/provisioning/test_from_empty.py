"""The issue's "done when": from an empty production database, as an operator following the README, to a working
procuratorate. The CLI runs as the operator runs it (a subprocess); everything else over HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import sys
import uuid
from pathlib import Path

import pyotp
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.db import connect
from api.serve import ensure_database, prepare_database
from tests.helpers import bearer, key

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
JIANWU = os.path.join(os.path.dirname(sys.executable), "jianwu")
STAFF_CSV = "name,username,roles,department,phone\n" + "\n".join(
    f"员工{i},js.staff{i},{'prosecutor' if i % 2 else 'assistant'},第{i % 3 + 1}检察部,"
    f"{'1390000%04d' % i if i <= 5 else ''}" for i in range(1, 11)) + "\n"


async def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        JIANWU, *args, env=env, cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate(stdin.encode() if stdin else None)
    return proc.returncode, out.decode(), err.decode()


def _one_line_refusal(code: int, out: str, err: str) -> str:
    assert code != 0, out
    assert "Traceback" not in err + out, err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    return lines[0]


def _login(username: str, password: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "password", "client_id": "staff-app", "username": username, "password": password, **extra}


def _problem(resp, status: int, code: str) -> dict:  # noqa: ANN001
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == code, resp.text
    return resp.json()


@pytest.fixture(name="empty")
async def fx_empty(servers, settings, tmp_path):  # noqa: ANN001, ANN201
    """An empty database of its own, production settings for it, and the environment an operator would set."""
    name = f"jianwu_empty_{uuid.uuid4().hex[:8]}"
    url = await ensure_database(settings, servers[0], name, fresh=True)
    prod = dataclasses.replace(settings, env="production", database_url=url, data_dir=tmp_path,
                               redis_prefix=f"jwempty:{uuid.uuid4().hex[:8]}:")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIANWU_", "DATABASE_URL", "REDIS_URL"))}
    env.update(JIANWU_ENV="production", DATABASE_URL=url, REDIS_URL=prod.redis_url, JIANWU_SECRET_KEY=prod.secret_key,
               JIANWU_DATA_DIR=str(tmp_path), JIANWU_REDIS_PREFIX=prod.redis_prefix, JIANWU_LOG_LEVEL="WARNING")
    yield prod, env
    conn = await connect(settings, servers[0])
    try:
        await conn.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await conn.close()


def _sms_password(data_dir: Path, phone: str) -> str:
    lines = [json.loads(x) for x in (data_dir / "sms-outbox.jsonl").read_text().splitlines()]
    text = [m["text"] for m in lines if m["to"] == phone][-1]
    return re.search(r"一次性密码：(\S+?)，", text).group(1)


async def test_an_operator_goes_from_an_empty_database_to_a_working_procuratorate(empty) -> None:  # noqa: ANN001
    prod, env = empty
    # The database and the offices, with the commands of the README.
    code, out, err = await _cli(env, "db", "migrate")
    assert code == 0, err
    refusal = _one_line_refusal(*await _cli(env, "demo", "load"))
    assert "production" in refusal
    code, out, err = await _cli(env, "offices", "import", "docs/offices-shanghai.csv")
    assert code == 0, err
    assert "21 created, 0 updated, 0 unchanged" in out
    code, out, err = await _cli(env, "offices", "import", "docs/offices-shanghai.csv")
    assert code == 0 and "0 created, 0 updated, 21 unchanged" in out, out + err
    assert "No such file" in _one_line_refusal(*await _cli(env, "offices", "import", "nowhere.csv"))
    assert "no office" in _one_line_refusal(*await _cli(env, "admin", "create", "--office", "nowhere",
                                                         "--username", "x.admin"))

    # The first admin of jinshan, with a one-time password printed once; a second is refused without --force.
    code, out, err = await _cli(env, "admin", "create", "--office", "jinshan", "--username", "js.admin",
                                "--name", "金山院管理员")
    assert code == 0, err
    otp = re.search(r"one-time password \(shown once\): (\S+)", out).group(1)
    assert "already has an admin" in _one_line_refusal(
        *await _cli(env, "admin", "create", "--office", "jinshan", "--username", "js.admin2"))

    await prepare_database(prod, prod.database_url, demo_data=True)  # what `jianwu serve` does before its workers
    async with AsyncTestClient(app=create_app(prod), base_url="http://jianwu.test") as client:
        offices = (await client.get("/api/v1/offices")).json()
        assert {"shanghai", "jinshan", "chongming", "sh-railway"} <= {o["code"] for o in offices}
        assert len(offices) == 21

        # Sign in with the one-time password: the token only reaches the password change.
        first = await client.post("/api/v1/auth/token", data=_login("js.admin", otp))
        assert first.status_code == 200, first.text
        assert first.json()["scope"] == "password_change"
        _problem(await client.get("/api/v1/admin/users", headers=bearer(first.json())), 403,
                 "password_change_required")
        _problem(await client.post("/api/v1/auth/password", headers=bearer(first.json()),
                                   json={"oldPassword": otp, "newPassword": "Admin@123456"}), 400, "weak_password")
        password = "Jinshan-admin-7q2x"
        changed = await client.post("/api/v1/auth/password", headers=bearer(first.json()),
                                    json={"oldPassword": otp, "newPassword": password})
        assert changed.status_code == 200, changed.text
        # Next comes the second factor (required of a first admin), then a full sign-in.
        assert changed.json()["scope"] == "mfa_enroll"
        assert (await client.get("/api/v1/auth/me", headers=bearer(first.json()))).status_code == 401
        pending = bearer(changed.json())
        _problem(await client.post("/api/v1/auth/totp/enrollment", headers=pending, json={"password": otp}), 403,
                 "wrong_password")
        enrol = await client.post("/api/v1/auth/totp/enrollment", headers=pending, json={"password": password})
        assert enrol.status_code == 200, enrol.text
        totp = pyotp.TOTP(enrol.json()["secret"])
        assert (await client.post("/api/v1/auth/totp/confirmation", headers=pending,
                                  json={"code": totp.now()})).status_code == 200
        # Confirming ends every session, marked in whole seconds: a sign-in in that same second would be refused.
        await asyncio.sleep(1.05)
        signed = await client.post("/api/v1/auth/token", data=_login("js.admin", password, totp=totp.now()))
        assert signed.status_code == 200 and signed.json()["scope"] == "", signed.text
        admin = bearer(signed.json())

        # Ten staff from a CSV: those with a phone get their one-time password by text, the others see it once.
        bulk = await client.post("/api/v1/admin/users/bulk", headers={**admin, **key(), "Content-Type": "text/csv"},
                                 content=STAFF_CSV.encode())
        assert bulk.status_code == 201, bulk.text
        created = {c["account"]["username"]: c for c in bulk.json()["created"]}
        assert len(created) == 10
        assert created["js.staff1"]["delivery"] == "sms" and "oneTimePassword" not in created["js.staff1"]
        assert created["js.staff7"]["delivery"] == "shown_once" and created["js.staff7"]["oneTimePassword"]

        # One of them signs in with the texted password and is made to change it.
        staff_otp = _sms_password(prod.data_path, "13900000001")
        staff = await client.post("/api/v1/auth/token", data=_login("js.staff1", staff_otp))
        assert staff.status_code == 200 and staff.json()["scope"] == "password_change"
        _problem(await client.get("/api/v1/staff/complaints", headers=bearer(staff.json())), 403,
                 "password_change_required")
        mine = await client.post("/api/v1/auth/password", headers=bearer(staff.json()),
                                 json={"oldPassword": staff_otp, "newPassword": "Staff-one-pw-83kd"})
        assert mine.status_code == 200 and mine.json()["scope"] == "", mine.text
        assert (await client.get("/api/v1/auth/me", headers=bearer(mine.json()))).json()["roles"] == ["prosecutor"]

        # The admin resets another's password: that account's sessions end, and it must change the new one.
        seven = created["js.staff7"]
        other = await client.post("/api/v1/auth/token", data=_login("js.staff7", seven["oneTimePassword"]))
        assert other.status_code == 200
        reset = await client.post(f"/api/v1/admin/users/{seven['account']['id']}/password-reset", headers=admin)
        assert reset.status_code == 200 and reset.json()["delivery"] == "shown_once", reset.text
        assert (await client.get("/api/v1/auth/me", headers=bearer(other.json()))).status_code == 401
        assert (await client.post("/api/v1/auth/token", data=_login("js.staff7", seven["oneTimePassword"]))
                ).status_code == 400
        again = await client.post("/api/v1/auth/token", data=_login("js.staff7", reset.json()["oneTimePassword"]))
        assert again.status_code == 200 and again.json()["scope"] == "password_change"

        # A staff member moves to chongming: gone from jinshan's list, what they did stays with jinshan.
        two = created["js.staff2"]["account"]["id"]
        moved = await client.post(f"/api/v1/admin/users/{two}/move", headers=admin, json={"office": "chongming"})
        assert moved.status_code == 200 and moved.json()["office"] == "chongming", moved.text
        _problem(await client.get(f"/api/v1/admin/users/{two}", headers=admin), 404, "not_found")

        # Every step is on the audit trail, and the trail verifies.
        trail = await client.get("/api/v1/admin/audit?limit=200", headers=admin)
        actions = [r["action"] for r in trail.json()["items"]]
        for action in ("office.created", "admin.first_admin.created", "auth.login", "auth.password.changed",
                       "auth.totp.confirmed", "admin.user.created", "admin.user.password_reset",
                       "admin.user.moved_out"):
            assert action in actions, action
        assert actions.count("admin.user.created") == 10
    code, out, err = await _cli(env, "audit", "verify")
    assert code == 0 and ", 0 breaks" in out, out + err


async def test_every_refusal_of_the_commands_is_one_line(empty, tmp_path) -> None:  # noqa: ANN001
    prod, env = empty
    assert (await _cli(env, "db", "migrate"))[0] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,level,parent,province,time_zone\nok-one,名,county,,上海,\nx2,名,planet,,上海,\n",
                   encoding="utf-8")
    refusal = _one_line_refusal(*await _cli(env, "offices", "import", str(bad)))
    assert "line 2" in refusal and "line 3" in refusal
    assert (await _cli(env, "offices", "import", "docs/offices-shanghai.csv"))[0] == 0
    weak = _one_line_refusal(*await _cli(env, "admin", "create", "--office", "chongming", "--username", "cm.admin",
                                         "--password-stdin", stdin="password123\n"))
    assert "password policy" in weak and "commonly used" in weak
    code, out, err = await _cli(env, "admin", "create", "--office", "chongming", "--username", "cm.admin",
                                "--password-stdin", stdin="Operator-chose-3x9\n")
    assert code == 0 and "Operator-chose-3x9" not in out and "shown once" not in out, err
    assert "taken" in _one_line_refusal(*await _cli(env, "admin", "create", "--office", "jinshan",
                                                    "--username", "cm.admin"))
    forced = await _cli(env, "admin", "create", "--office", "chongming", "--username", "cm.admin2", "--force")
    assert forced[0] == 0, forced[2]
    conn = await connect(prod, prod.database_url)
    try:
        detail = await conn.fetchval("select detail from audit_log where action = 'admin.first_admin.created' "
                                     "and detail->>'username' = 'cm.admin2'")
    finally:
        await conn.close()
    assert detail["forced"] is True and detail["admins_before"] == 1
    no_key = {k: v for k, v in env.items() if k != "JIANWU_SECRET_KEY"}
    assert "JIANWU_SECRET_KEY" in _one_line_refusal(*await _cli(no_key, "offices", "import", "docs/offices-shanghai.csv"))
