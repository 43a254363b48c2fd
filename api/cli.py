"""The `jianwu` command: Litestar's CLI with our groups for the database, demo data, OpenAPI and serving."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn, TypeVar

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


def _settings():
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
                from modules.registry import seed_permission_defaults

                applied = await migrate.apply(conn)
                for m in applied:
                    click.echo(f"applied {m.version:04d}_{m.name}")
                click.echo("up to date" if not applied else f"{len(applied)} applied")
                if added := await seed_permission_defaults(conn):
                    click.echo(f"{added} default permission grants added for modules")

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
            from api.office_tree import import_offices, parse_csv, summary

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
            """Create an office's first admin with a one-time password (changed, and TOTP enrolled, at first
            sign-in)."""
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
            """Recompute every hash chain and compare lane ends with their anchored heads; exit 1 listing every
            edited, deleted or cut-off row."""
            from api.cache import create_redis
            from api.settings import master_secret
            from auth.audit import use_chain_key, verify_chains
            from auth.audit_anchor import Anchors
            from auth.secretbox import SecretBox

            settings = _settings()
            box = SecretBox(master_secret(settings))
            use_chain_key(box)

            async def run(conn: asyncpg.Connection) -> int:
                # Lane heads anchored in Redis (when configured) and in the data directory's append-only file.
                redis = create_redis(settings, settings.redis_url) if settings.redis_url else None
                try:
                    anchors = Anchors(box, settings.data_path, redis, settings.redis_prefix)
                    checked, breaks = await verify_chains(conn, anchors)
                    if redis is not None:  # the admin console shows the last result (api/console/pages/audit.py)
                        await redis.set(f"{settings.redis_prefix}audit:last_verification", json.dumps(
                            {"at": datetime.now(UTC).isoformat(), "checked": checked, "breaks": len(breaks)}))
                finally:
                    if redis is not None:
                        await redis.aclose()
                for b in breaks:
                    click.echo(f"BROKEN chain {b.chain} at row {b.seq}: {b.problem}", err=True)
                click.echo(f"{checked} audit records checked, {len(breaks)} breaks")
                return 1 if breaks else 0

            code = _on_database(run)
            if code:
                sys.exit(code)

        @cli.group()
        def calendar() -> None:
            """Holiday calendars: enter a year's notice, list what the years hold."""

        @calendar.command("import")
        @click.argument("path", type=click.Path(exists=True, dir_okay=False))
        @click.option("--office", "office_code", required=True, help="Office entering the days (its code).")
        @click.option("--level", type=click.Choice(["national", "province", "office"]), default="office")
        @click.option("--year", type=int, default=None, help="The year (CSV only; default: the rows' year).")
        @click.option("--notice", default=None, help="The notice's reference (CSV only).")
        @click.option("--complete", is_flag=True, help="The whole notice is entered (CSV only).")
        def calendar_import(path: str, office_code: str, level: str, year: int | None, notice: str | None,
                            complete: bool) -> None:
            """Enter a year from a JSON or CSV file (docs/calendar-format.md) and recompute the clocks it moves."""
            from pathlib import Path

            from modules.clocks.calendars import parse_year_file

            try:
                data = parse_year_file(Path(path).read_text(encoding="utf-8"), filename=path, year=year,
                                       notice=notice, complete=complete)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
            _on_database(lambda conn: _enter_year(conn, office_code, level, data))

        @calendar.command("export")
        @click.argument("year", type=int)
        def calendar_export(year: int) -> None:
            """Print a year the installed chinesecalendar knows as an import CSV (the model for the next year)."""
            from modules.clocks.calendars import package_year, to_csv

            try:
                click.echo(to_csv(package_year(year)), nl=False)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None

        @calendar.command("list")
        @click.option("--office", "office_code", required=True, help="Office whose view to list (its code).")
        @click.option("--from", "first", type=int, default=None)
        @click.option("--to", "last", type=int, default=None)
        def calendar_list(office_code: str, first: int | None, last: int | None) -> None:
            """One line per year: where its days come from, and whether deadlines in it are estimates."""
            from modules.clocks.calendars import year_summaries
            from modules.clocks.store import today

            async def run(conn: asyncpg.Connection) -> None:
                office = await _office(conn, office_code)
                now = today().year
                for s in await year_summaries(conn, office, range(first or now - 1, (last or now + 2) + 1)):
                    flag = "ESTIMATED" if s.estimated else "ok"
                    click.echo(f"{s.year} {s.source:9} {flag:9} holidays={s.holidays} workdays={s.workdays} "
                               f"levels={','.join(s.levels) or '-'} notice={s.notice or '-'}")

            _on_database(run)

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

        @cli.command("worker")
        def worker_command() -> None:
            """Run one delivery worker (outbox to inboxes, phones and partner webhooks) until SIGTERM."""
            import asyncio

            from api.observability import configure_logging
            from push.process import run_worker

            settings = _settings()
            configure_logging(settings.log_level)
            asyncio.run(run_worker(settings))


def _chain_key():
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


def _operator():
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


async def _office(conn: asyncpg.Connection, code: str):
    office = await conn.fetchval("select id from offices where code = $1", code)
    if office is None:
        raise click.ClickException(f"no office {code!r}")
    return office


async def _enter_year(conn: asyncpg.Connection, office_code: str, level: str, data: object) -> None:
    """Enter the year as the office's system actor, then recompute in batches; print what changed."""
    from api.db import atomic
    from api.errors import ProblemError
    from api.settings import master_secret
    from auth.audit import Actor, use_chain_key
    from auth.secretbox import SecretBox
    from modules.clocks.calendars import apply_year, recompute

    use_chain_key(SecretBox(master_secret(_settings())))
    office = await _office(conn, office_code)
    actor = Actor(id=None, kind="system", office_id=office, device_id="cli", ip=None, request_id=None)
    try:
        async with atomic(conn):
            job = await apply_year(conn, actor, office, level, data)  # type: ignore[arg-type]  # level was checked by click.Choice
    except ProblemError as exc:
        problems = "; ".join(e["message"] for e in (exc.errors or []))
        raise click.ClickException(f"{exc.detail} {problems}") from None
    totals = await recompute(conn, actor, office, job)
    days = data.days  # type: ignore[attr-defined]  # data is the CalendarYear parse_year_file answered (typed object here)
    click.echo(f"{data.year}: {sum(d.kind == 'holiday' for d in days)} holidays, "  # type: ignore[attr-defined]  # as above
               f"{sum(d.kind == 'workday' for d in days)} make-up working days entered at {level} level; "
               f"{totals['changed']} of {totals['checked']} clocks moved")


def main() -> None:
    """Entry point of the `jianwu` console script."""
    os.environ.setdefault("LITESTAR_APP", "api.app:create_cli_app")
    os.environ.setdefault("LITESTAR_QUIET_CONSOLE", "1")
    from litestar.cli.main import litestar_group

    litestar_group()
