"""Contract tests: clients generated from our OpenAPI documents, as app teams and partners generate them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# make installs the generator into a venv of its own beside the project's (tests/contract/generator.txt).
GENERATOR = Path(sys.executable).parent.parent / "tools" / "bin" / "openapi-python-client"


def generate(spec: Path, config: Path, out: Path) -> None:
    """Generate a Python client package from `spec` into `out`; fail on any error or warning of the generator."""
    run = subprocess.run([str(GENERATOR), "generate", "--path", str(spec), "--config", str(config), "--meta", "none",
                          "--output-path", str(out)], capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "warning" not in (run.stdout + run.stderr).lower(), run.stdout + run.stderr
