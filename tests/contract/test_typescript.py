"""The committed spec is a contract for TypeScript apps too: openapi-typescript turns it into types with no
warnings, a small complaint flow written with openapi-fetch type-checks in strict mode, and common mistakes
(a misspelled state, a missing Idempotency-Key, an unknown channel) do not compile (tests/contract/ts/flow.ts)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TS = Path(__file__).with_name("ts")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=TS, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.skipif(shutil.which("npm") is None, reason="Node.js and npm are needed for the TypeScript contract")
def test_typescript_types_and_flow_compile() -> None:
    if not (TS / "node_modules" / ".package-lock.json").exists():
        installed = _run("npm", "ci", "--no-audit", "--no-fund")  # the committed package-lock.json
        assert installed.returncode == 0, installed.stdout + installed.stderr
    generated = _run("npx", "--no-install", "openapi-typescript", "../../../openapi/openapi.json",
                     "-o", "generated/api.d.ts")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "warn" not in (generated.stdout + generated.stderr).lower(), generated.stdout + generated.stderr
    # tsc also fails when a line marked `@ts-expect-error` compiles: each such mistake must stay an error.
    checked = _run("npx", "--no-install", "tsc", "-p", "tsconfig.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
