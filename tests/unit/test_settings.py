"""Settings come from the environment; a bad value stops the process with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from api.settings import Settings, SettingsError


def test_defaults_are_usable() -> None:
    s = Settings.from_env({})
    assert s.port == 8000 and s.env == "development" and s.database_url is None


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"PORT": "eighty"}, "PORT"), ({"PORT": "70000"}, "PORT"), ({"JIANWU_ENV": "staging"}, "JIANWU_ENV"),
     ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"), ({"JIANWU_ACCESS_LOG": "maybe"}, "JIANWU_ACCESS_LOG")],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("env", "message"),
    [({"DATABASE_URL": "postgresql://db/j", "DATABASE_REPLICA_URL": "mysql://r/j"}, "DATABASE_REPLICA_URL="),
     ({"DATABASE_REPLICA_URL": "postgresql://r/j"}, "needs DATABASE_URL"),
     ({"DATABASE_URL": "postgresql://db/j", "DATABASE_REPLICA_URL": "postgresql://db/j"}, "not DATABASE_URL itself"),
     ({"DATABASE_URL": "postgresql://db/j", "DATABASE_REPLICA_URL": "postgresql://r/j",
       "JIANWU_DB_REPLICA_MAX_LAG": "0"}, "JIANWU_DB_REPLICA_MAX_LAG")],
)
def test_a_read_replica_is_checked_at_start(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_a_read_replica_is_optional() -> None:
    s = Settings.from_env({"DATABASE_URL": "postgresql://db/j", "DATABASE_REPLICA_URL": "postgres://r/j"})
    assert s.database_replica_url == "postgres://r/j" and s.db_replica_max_lag == 5.0
    assert Settings.from_env({"DATABASE_URL": "postgresql://db/j"}).database_replica_url is None


def test_production_requires_a_secret_key() -> None:
    with pytest.raises(SettingsError, match="JIANWU_SECRET_KEY"):
        Settings.from_env({"JIANWU_ENV": "production"})


def test_cli_reports_one_clear_line_not_a_traceback() -> None:
    jianwu = os.path.join(os.path.dirname(sys.executable), "jianwu")
    done = subprocess.run([jianwu, "db", "status"], env={**os.environ, "PORT": "not-a-port"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == ["jianwu: configuration error: PORT='not-a-port' is invalid: must be a whole number"]
