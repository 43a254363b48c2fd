"""The `jianwu` command: Litestar's CLI with our groups for the database, demo data, OpenAPI and serving."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING, Awaitable, Callable, NoReturn, TypeVar

import click
from litestar.plugins import CLIPluginProtocol

if TYPE_CHECKING:
    import asyncpg
    from litestar import Litestar

T = TypeVar("T")

__all__ = ("JianwuCLIPlugin", "main")


def fail(message: str) -> NoReturn:
    """Refuse with one plain line on standard error (`jianwu: ...`) and exit status 1: never a traceback, and
    not the box the CLI's formatter draws around a ClickException (scripts read the line)."""
    click.echo(f"jianwu: {message}", err=True)
    sys.exit(1)


def _settings():  # noqa: ANN202
    from api.settings import get_settings

    return get_settings()


def _database_url() -> str:
    settings = _settings()
    if not settings.database_url:
        fail("DATABASE_URL is not set (`jianwu serve` runs an embedded server instead)")
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

            async def run(conn: asyncpg.Connection) -> None:
                applied = await migrate.apply(conn)
                for m in applied:
                    click.echo(f"applied {m.version:04d}_{m.name}")
                click.echo("up to date" if not applied else f"{len(applied)} applied")

            _on_database(run)

        @db.command("status")
        def db_status() -> None:
            """List migrations and whether each is applied."""
            from api import migrate

            async def run(conn: asyncpg.Connection) -> None:
                rows = await migrate.status(conn)
                for m, applied in rows:
                    click.echo(f"{m.version:04d}_{m.name}: {'applied' if applied else 'pending'}")

            _on_database(run)

        @cli.group()
        def demo() -> None:
            """Demo data."""

        @demo.command("load")
        def demo_load() -> None:
            """Load or refresh the demo offices and accounts (refused in production)."""
            from api import demo as demo_data

            if _settings().env == "production":
                fail("demo data is never loaded when JIANWU_ENV=production")

            async def run(conn: asyncpg.Connection) -> None:
                await demo_data.load(conn, env=_settings().env, box=_chain_key())
                click.echo("demo data loaded")

            _on_database(run)

        @cli.group()
        def offices() -> None:
            """The office tree."""

        @offices.command("import")
        @click.argument("file", type=click.Path(dir_okay=False))
        def offices_import(file: str) -> None:
            """Create or update the offices of a CSV file (code,name,level,parent,province,time_zone); safe to rerun."""
            from api.offices import import_offices, parse_csv, summary

            try:
                with open(file, encoding="utf-8") as f:
                    records = parse_csv(f.read())
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                fail(f"{file}: {exc}")

            async def run(conn: asyncpg.Connection) -> None:
                result = await import_offices(conn, records, _operator())
                click.echo(f"{len(records)} offices in {file}: {summary(result)}")

            _on_database(run, audited=True)

        @cli.group("admin")
        def admin_group() -> None:
            """Office administrators."""

        @admin_group.command("create")
        @click.option("--office", "office", required=True, help="Code of the office.")
        @click.option("--username", required=True, help="Username of the new admin.")
        @click.option("--name", "display_name", default=None, help="Name shown in the console (default: username).")
        @click.option("--password-stdin", is_flag=True, help="Read the one-time password from standard input.")
        @click.option("--force", is_flag=True, help="Create it even though the office has an admin (audited).")
        def admin_create(office: str, username: str, display_name: str | None, password_stdin: bool,
                         force: bool) -> None:
            """Create an office's first admin with a one-time password (changed, and TOTP enrolled, at first sign-in)."""
            from auth.first_admin import create_first_admin

            password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None

            async def run(conn: asyncpg.Connection) -> None:
                shown = await create_first_admin(conn, office_code=office, username=username,
                                                 display_name=display_name or username, password=password,
                                                 force=force, actor=_operator())
                click.echo(f"created admin {username.lower()} of {office}; valid 72 hours, to be changed at first "
                           "sign-in, with TOTP enrolment")
                if shown:
                    click.echo(f"one-time password (shown once): {shown}")

            _on_database(run, audited=True)

        @cli.group()
        def keys() -> None:
            """Token signing keys."""

        @keys.command("rotate")
        def keys_rotate() -> None:
            """Add a new signing key; the old one stays published until its tokens have expired."""
            from api.settings import master_secret
            from auth.keyring import rotate_signing_key
            from auth.secretbox import SecretBox

            async def run(conn: asyncpg.Connection) -> None:
                kid = await rotate_signing_key(conn, SecretBox(master_secret(_settings())))
                click.echo(f"new signing key {kid}; workers pick it up within a minute")

            _on_database(run)

        @cli.group()
        def audit() -> None:
            """The audit trail."""

        @audit.command("verify")
        def audit_verify() -> None:
            """Recompute every hash chain; exit 1 and list the breaks if any row was edited or deleted."""
            from api.settings import master_secret
            from auth.audit import use_chain_key, verify_chains
            from auth.secretbox import SecretBox

            use_chain_key(SecretBox(master_secret(_settings())))

            async def run(conn: asyncpg.Connection) -> int:
                checked, breaks = await verify_chains(conn)
                for b in breaks:
                    click.echo(f"BROKEN chain {b.chain} at row {b.seq}: {b.problem}", err=True)
                click.echo(f"{checked} audit records checked, {len(breaks)} breaks")
                return 1 if breaks else 0

            code = _on_database(run)
            if code:
                sys.exit(code)

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


def _chain_key():  # noqa: ANN202
    """The service key, also keying the audit chain (every command that writes the trail needs it)."""
    from api.settings import master_secret
    from auth.audit import use_chain_key
    from auth.secretbox import SecretBox

    try:
        box = SecretBox(master_secret(_settings()))
    except (ValueError, OSError) as exc:
        fail(str(exc))
    use_chain_key(box)
    return box


def _operator():  # noqa: ANN202
    """The audit trail's actor for a command run by the operator on the server."""
    import getpass

    from auth.audit import Actor

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = str(os.getuid())
    return Actor(id=f"cli:{who}"[:64], kind="operator", office_id=None, device_id=None, ip=None, request_id=None)


def _on_database(fn: Callable[[asyncpg.Connection], Awaitable[T]], *, audited: bool = False) -> T:
    """Run one async command on its own connection to DATABASE_URL, with errors as one clear line."""
    import asyncpg as pg

    from api.db import connect
    from api.errors import ProblemError
    from api.migrate import MigrationError

    if audited:
        _chain_key()

    async def main() -> T:
        conn = await connect(_settings(), _database_url())
        try:
            return await fn(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(main())
    except MigrationError as exc:
        fail(str(exc))
    except ProblemError as exc:
        reasons = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors or [])
        fail(f"{exc.detail}{' (' + reasons + ')' if reasons else ''}")
    except pg.UndefinedTableError:
        fail("the database is not migrated: run `jianwu db migrate` first")
    except pg.PostgresError as exc:
        fail(f"PostgreSQL refused: {exc}")
    except (OSError, ConnectionError) as exc:
        fail(f"cannot reach PostgreSQL: {exc}")


def main() -> None:
    """Entry point of the `jianwu` console script."""
    os.environ.setdefault("LITESTAR_APP", "api.app:create_app")
    os.environ.setdefault("LITESTAR_QUIET_CONSOLE", "1")
    from litestar.cli.main import litestar_group

    litestar_group()
