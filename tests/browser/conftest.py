"""Browser tests of the console: Playwright drives Debian's Chromium (/usr/bin/chromium, nothing downloaded) against
`jianwu serve` on the suite's database. Skipped, saying why, where Chromium or Playwright is missing; CI installs
Chromium (.ci/run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
import warnings
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from api.db import connect
from auth.demo import DEMO_PASSWORD
from auth.passwords import hash_password_sync

CHROMIUM = os.environ.get("JIANWU_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

try:
    from playwright.async_api import Browser, async_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    async_playwright = None  # type: ignore[assignment]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip every browser test, with the reason, when there is no browser to drive."""
    reason = None
    if async_playwright is None:
        reason = "browser tests skipped: the playwright package is not installed (make install)"
    elif not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        reason = f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium; CI installs it)"
    if reason:
        for item in items:
            if "tests/browser/" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module", name="chromium")
async def fx_chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        await browser.close()


@pytest.fixture(name="outside")
def fx_outside() -> list[str]:
    """Every request a page tried to send anywhere but our server (each is also refused)."""
    return []


@pytest.fixture(name="page")
async def fx_page(chromium: Browser, server: str, outside: list[str]) -> AsyncIterator[Any]:
    """A fresh browser context at 1280 px whose requests may only reach our server."""
    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=server, locale="zh-CN")

    async def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith((server, "data:")):
            await route.continue_()
        else:
            outside.append(url)
            await route.abort()

    await context.route("**/*", guard)
    page = await context.new_page()
    yield page
    await context.close()
    assert not outside, f"pages tried to load outside URLs: {outside}"


@pytest.fixture(name="admin")
async def fx_admin(settings: Any) -> str:
    """A fresh admin of jinshan who may also read the monitoring figures and (as a prosecutor may, contact details
    masked) the liaison register; answers the username."""
    username = f"jinshan.b{uuid.uuid4().hex[:10]}"

    async def insert() -> None:
        conn = await connect(settings, settings.database_url)
        try:
            await conn.execute(
                "insert into users (kind, office_id, username, display_name, password_hash, roles)"
                " select 'staff', id, $1, '浏览器测试', $2, $3 from offices where code = 'jinshan'",
                username, hash_password_sync(DEMO_PASSWORD), ["admin", "case_mgmt", "prosecutor"])
        finally:
            await conn.close()

    await insert()
    return username


async def run_sql(settings: Any, sql: str, *args: Any) -> Any:
    """One statement on the suite's database."""
    conn = await connect(settings, settings.database_url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


@cache
def cjk_font() -> str | None:
    """A font with Simplified Chinese that Chromium finds through fontconfig (Debian: fonts-noto-cjk), or None."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    found = subprocess.run([fc_list, ":lang=zh-cn", "family"], capture_output=True, text=True, check=False).stdout
    families = [f.split(",")[0] for f in found.splitlines() if f.strip()]
    ranked = sorted(families, key=lambda f: (not f.endswith(" SC"), "Mono" in f, "Serif" in f, f))
    return ranked[0] if ranked else None


async def shoot(page: Any, name: str) -> None:
    """Screenshots of the page at 1280 px and 390 px wide, into tests/browser/screenshots/ (not committed). Chinese
    text needs a CJK font in the browser's machine: without one the screenshots show empty boxes, so the run warns
    (once) and the tests go on; nothing they assert depends on fonts."""
    if cjk_font() is None:
        warnings.warn("no Chinese font installed (apt-get install fonts-noto-cjk): the screenshots in "
                      "tests/browser/screenshots/ will show boxes for Chinese text", stacklevel=2)
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})
