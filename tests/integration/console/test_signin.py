"""Signing in to the console: the API's password grant and second factor behind a form, cookie flags, CSRF,
idle timeout and sign-out."""

from __future__ import annotations

import asyncio
import json

import pyotp

from api.console.session import IDLE_SECONDS
from tests.helpers import bearer, token_for
from tests.integration.console.conftest import csrf_of, sign_in, signed_in


async def test_sign_in_sets_a_strict_http_only_cookie_and_opens_the_overview(browser, new_staff) -> None:  # noqa: ANN001
    c = await browser()
    resp = await sign_in(c, await new_staff())
    assert resp.status_code == 303
    cookie = next(v for k, v in resp.headers.multi_items() if k == "set-cookie" and v.startswith("jianwu_console="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    home = await c.get("/console")
    assert home.status_code == 200 and "概览" in home.text
    assert home.headers["cache-control"] == "no-store"
    csp = home.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]


async def test_a_wrong_password_shows_the_form_again(browser, new_staff) -> None:  # noqa: ANN001
    c = await browser()
    resp = await sign_in(c, await new_staff(), password="not-the-password")
    assert resp.status_code == 400 and "用户名或密码错误" in resp.text
    assert (await c.get("/console")).status_code == 303


async def test_sign_in_without_the_forms_csrf_token_is_refused(browser, new_staff) -> None:  # noqa: ANN001
    c = await browser()
    await c.get("/console/login")
    resp = await c.post("/console/login", data={"username": await new_staff(), "password": "jianwu-demo"})
    assert resp.status_code == 403 and "CSRF" in resp.text


async def test_pages_without_a_session_send_browsers_to_sign_in_and_others_a_401(browser, client) -> None:  # noqa: ANN001
    c = await browser()
    resp = await c.get("/console/modules")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/console/login")
    api = await client.get("/console/modules")
    assert api.status_code == 401 and api.headers["content-type"].startswith("application/problem+json")


async def test_sign_out_ends_the_session_and_revokes_its_tokens(browser, new_staff, redis, settings) -> None:  # noqa: ANN001
    c = await browser()
    csrf = await signed_in(c, await new_staff())
    sid = c.cookies.get("jianwu_console")
    raw = await redis.get(f"{settings.redis_prefix}console:{sid}")
    access = json.loads(raw)["access_token"]
    resp = await c.post("/console/logout", data={"_csrf": csrf})
    assert resp.status_code == 303 and "signed_out" in resp.headers["location"]
    assert (await c.get("/console")).status_code == 303
    assert await redis.get(f"{settings.redis_prefix}console:{sid}") is None
    api = await c.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"})
    assert api.status_code == 401  # the session's access token is revoked, as by POST /api/v1/auth/logout


async def test_an_idle_session_expires(browser, new_staff, redis, settings) -> None:  # noqa: ANN001
    c = await browser()
    await signed_in(c, await new_staff())
    keys = [k async for k in redis.scan_iter(f"{settings.redis_prefix}console:*")]
    sid = c.cookies.get("jianwu_console")
    key = f"{settings.redis_prefix}console:{sid}".encode()
    assert key in keys and 0 < await redis.ttl(key) <= IDLE_SECONDS
    await redis.expire(key, 5)
    assert (await c.get("/console/modules")).status_code == 200
    assert await redis.ttl(key) > 5  # each request starts the idle period again
    await redis.pexpire(key, 1)
    await asyncio.sleep(0.05)
    assert (await c.get("/console/modules")).status_code == 303


async def test_totp_enrolment_then_sign_in_with_the_code(browser, new_staff, client) -> None:  # noqa: ANN001
    c = await browser()
    username = await new_staff()
    csrf = await signed_in(c, username)
    step = await c.post("/console/totp", data={"_csrf": csrf, "password": "jianwu-demo"})
    assert step.status_code == 200
    secret = step.text.split('id="totp-secret">', 1)[1].split("<", 1)[0]
    wrong = await c.post("/console/totp/confirm", data={"_csrf": csrf, "code": "000000", "secret": secret})
    assert wrong.status_code == 400 and "动态码不正确" in wrong.text
    done = await c.post("/console/totp/confirm", data={"_csrf": csrf, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and "recovery-codes" in done.text
    assert (await c.get("/console")).status_code == 303  # enrolment ends every session, this one too
    await asyncio.sleep(1.1)  # enrolment revokes every token issued up to its (whole) second
    again = await sign_in(c, username)
    assert again.status_code == 400 and 'name="totp"' in again.text
    form = await c.get("/console/login")
    codes = done.text.split('id="recovery-codes">', 1)[1]
    recovery = codes.split("<code>", 1)[1].split("<", 1)[0]
    ok = await c.post("/console/login", data={"_csrf": csrf_of(form.text), "username": username,
                                               "password": "jianwu-demo", "totp": recovery})
    assert ok.status_code == 303, ok.text
    assert (await c.get("/console")).status_code == 200


async def test_signing_out_everywhere_from_the_people_page_ends_a_console_session(browser, new_staff,  # noqa: ANN001
                                                                                  client) -> None:
    admin, victim = await browser(), await browser()
    victim_name = await new_staff(roles=("prosecutor",))
    await signed_in(victim, victim_name)
    csrf = await signed_in(admin, await new_staff())
    people = await admin.get("/console/people")
    row = people.text.split(f'data-username="{victim_name}"', 1)[1]
    action = row.split('/sign-out"', 1)[0].rsplit('action="', 1)[1] + "/sign-out"
    assert (await admin.post(action, data={"_csrf": csrf})).status_code == 303
    assert (await victim.get("/console")).status_code == 303


async def test_the_console_allows_only_what_the_api_allows(browser, new_staff, client) -> None:  # noqa: ANN001
    username = await new_staff(roles=("prosecutor",))
    c = await browser()
    await signed_in(c, username)
    page = await c.get("/console/modules")
    api = await client.put("/api/v1/admin/modules/complaints", json={"enabled": True},
                           headers=bearer(await token_for(client, username)))
    assert api.status_code == page.status_code == 403
    home = await c.get("/console")
    assert "/console/modules" not in home.text and "/console/permissions" not in home.text


async def test_a_one_time_password_must_be_changed_first(browser, new_staff, conn) -> None:  # noqa: ANN001
    username = await new_staff()
    await conn.execute("update users set must_change_password = true, password_expires_at = now() + interval '1 day'"
                       " where username = $1", username)
    c = await browser()
    assert (await sign_in(c, username)).status_code == 303
    resp = await c.get("/console/modules")
    assert resp.status_code == 303 and resp.headers["location"] == "/console/password"
    csrf = csrf_of((await c.get("/console/password")).text)
    mismatch = await c.post("/console/password", data={"_csrf": csrf, "old_password": "jianwu-demo",
                                                       "new_password": "a", "new_password_again": "b"})
    assert mismatch.status_code == 400
    wrong = await c.post("/console/password", data={"_csrf": csrf, "old_password": "nope",
                                                    "new_password": "Zx9-long-enough-pass", "new_password_again":
                                                    "Zx9-long-enough-pass"})
    assert wrong.status_code == 403 and "当前密码错误" in wrong.text
    done = await c.post("/console/password", data={"_csrf": csrf, "old_password": "jianwu-demo",
                                                   "new_password": "Zx9-long-enough-pass",
                                                   "new_password_again": "Zx9-long-enough-pass"})
    assert done.status_code == 303, done.text
    assert (await c.get("/console/modules")).status_code == 200
