"""What a worker serving requests loads: the application, without the command line's libraries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_served_app_leaves_the_cli_and_jinja_unloaded(tmp_path: Path) -> None:
    """granian's factory (`api.app:create_app`) builds the app without click and our command groups, which every
    worker would carry for nothing (the `jianwu` command's factory adds them), and without Jinja, which loads when
    the console renders its first page (tests/integration/console render them)."""
    probe = ("import sys; from api.app import create_app; create_app(); "
             "print(sorted(m for m in ('click', 'api.cli', 'jinja2') if m in sys.modules))")
    env = {**os.environ, "JIANWU_DATA_DIR": str(tmp_path)}

    def loaded(code: str) -> str:
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                              check=True, timeout=120)
        return done.stdout.strip().splitlines()[-1]

    assert loaded(probe) == "[]"
    assert loaded(probe.replace("create_app()", "__import__('api.app').app.create_cli_app()")) == "['api.cli', 'click']"
