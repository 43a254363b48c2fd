"""Console fixtures: a browser-like client of its own per test (its own cookie jar) on the suite's app, and fresh
staff accounts, so nothing a test does to an account reaches another test."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from auth.demo import DEMO_PASSWORD
from auth.passwords import hash_password

HTML = {"Accept": "text/html"}


class Browser:
    """A browser on the suite's client: a cookie jar of its own (swapped in for each request), HTML accepted,
    redirects not followed. The suite's client runs the app in its own event loop, so every request goes
    through it."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.cookies = httpx.Cookies()

    async def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """Send one request with this browser's cookies; keep the cookies the answer sets."""
        jar = self.client.cookies
        jar.clear()
        for cookie in self.cookies.jar:
            jar.jar.set_cookie(cookie)
        try:
            return await self.client.request(method, url, headers={**HTML, **kw.pop("headers", {})},
                                             follow_redirects=False, **kw)
        finally:
            self.cookies = httpx.Cookies()
            for cookie in jar.jar:
                self.cookies.jar.set_cookie(cookie)
            jar.clear()

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        """GET."""
        return await self.request("GET", url, **kw)

    async def post(self, url: str, **kw: Any) -> httpx.Response:
        """POST."""
        return await self.request("POST", url, **kw)


@pytest.fixture(name="browser")
def fx_browser(client: Any) -> Callable[[], Awaitable[Browser]]:
    """Make browsers on the suite's client."""

    async def make() -> Browser:
        return Browser(client)

    return make


@pytest.fixture(name="new_staff")
async def fx_new_staff(conn) -> Callable[..., Awaitable[str]]:  # noqa: ANN001
    """Create a staff member of an office with these roles; answers the username (password: the demo one)."""
    hashed = await hash_password(DEMO_PASSWORD)

    async def make(office: str = "jinshan", roles: tuple[str, ...] = ("admin",)) -> str:
        username = f"{office}.t{uuid.uuid4().hex[:10]}"
        await conn.execute(
            "insert into users (kind, office_id, username, display_name, password_hash, roles)"
            " select 'staff', id, $2, '测试', $3, $4 from offices where code = $1",
            office, username, hashed, list(roles))
        return username

    return make


def csrf_of(page: str) -> str:
    """The CSRF token in a page's forms."""
    found = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert found, "page has no CSRF field"
    return found.group(1)


async def sign_in(c: Browser, username: str, password: str = DEMO_PASSWORD, **extra: str) -> Any:
    """Sign in through the console's form; answers the response to the POST."""
    form = await c.get("/console/login")
    return await c.post("/console/login", data={"_csrf": csrf_of(form.text), "username": username,
                                                 "password": password, **extra})


async def signed_in(c: Browser, username: str) -> str:
    """Sign in (asserting success); answers the CSRF token of the session's forms."""
    resp = await sign_in(c, username)
    assert resp.status_code == 303 and resp.headers["location"] == "/console", resp.text
    home = await c.get("/console")
    assert home.status_code == 200
    return csrf_of(home.text)
