"""The `jianwu` command: Litestar's CLI with our groups for the database, demo data, OpenAPI and serving."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING

import click
from litestar.plugins import CLIPluginProtocol

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ("JianwuCLIPlugin", "main")


def _settings():  # noqa: ANN202
    from api.settings import get_settings

    return get_settings()


def _database_url() -> str:
    settings = _settings()
    if not settings.database_url:
        raise click.ClickException("DATABASE_URL is not set (`jianwu serve` runs an embedded server instead)")
    return settings.database_url


class JianwuCLIPlugin(CLIPluginProtocol):
    """Adds `db`, `demo`, `openapi` and `serve` to the Litestar CLI."""

    def on_cli_init(self, cli: click.Group) -> None:
        """Register our command groups."""

        @cli.group()
        def db() -> None:
            """Database schema."""

        @db.command("migrate")
        def db_migrate() -> None:
            """Apply pending migrations (safe to run from several replicas at once)."""
            from api import migrate
            from api.db import connect

            async def run() -> None:
                conn = await connect(_settings(), _database_url())
                try:
                    applied = await migrate.apply(conn)
                finally:
                    await conn.close()
                for m in applied:
                    click.echo(f"applied {m.version:04d}_{m.name}")
                click.echo("up to date" if not applied else f"{len(applied)} applied")

            _run(run())

        @db.command("status")
        def db_status() -> None:
            """List migrations and whether each is applied."""
            from api import migrate
            from api.db import connect

            async def run() -> None:
                conn = await connect(_settings(), _database_url())
                try:
                    rows = await migrate.status(conn)
                finally:
                    await conn.close()
                for m, applied in rows:
                    click.echo(f"{m.version:04d}_{m.name}: {'applied' if applied else 'pending'}")

            _run(run())

        @cli.group()
        def demo() -> None:
            """Demo data."""

        @demo.command("load")
        def demo_load() -> None:
            """Load or refresh the demo offices and accounts (refused in production)."""
            from api import demo as demo_data
            from api.db import connect

            async def run() -> None:
                conn = await connect(_settings(), _database_url())
                try:
                    await demo_data.load(conn, env=_settings().env)
                finally:
                    await conn.close()
                click.echo("demo data loaded")

            _run(run())

        @cli.group()
        def openapi() -> None:
            """The OpenAPI document."""

        @openapi.command("export")
        @click.option("--output", "-o", default=None, help="File to write (default: openapi/openapi.json).")
        def openapi_export(app: Litestar, output: str | None) -> None:
            """Write the OpenAPI document the code produces, for committing under openapi/."""
            from api.spec import export

            path = export(app, output)
            click.echo(f"wrote {path}")

        @cli.command("serve")
        def serve_command() -> None:
            """Run Jianwu: embedded PostgreSQL/Redis when unconfigured, migrations, demo data, several workers."""
            from api.serve import serve

            sys.exit(serve(_settings()))


def _run(coro: object) -> None:
    from api.migrate import MigrationError

    try:
        asyncio.run(coro)  # type: ignore[arg-type]
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from None
    except (OSError, ConnectionError) as exc:
        raise click.ClickException(f"cannot reach PostgreSQL: {exc}") from None


def main() -> None:
    """Entry point of the `jianwu` console script."""
    os.environ.setdefault("LITESTAR_APP", "api.app:create_app")
    os.environ.setdefault("LITESTAR_QUIET_CONSOLE", "1")
    from litestar.cli.main import litestar_group

    litestar_group()
