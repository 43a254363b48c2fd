"""The committed spec is a contract for TypeScript apps too: openapi-typescript turns it into types with no
warnings, flows written with openapi-fetch type-check in strict mode and run with node against `jianwu serve`
(anonymous filing, retry, tracking, the office's handling, rating; a PIL clue; a deputy's suggestion), and common
mistakes (a misspelled state, a missing Idempotency-Key, an unknown channel) do not compile (tests/contract/ts)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from auth.demo import DEMO_PASSWORD

TS = Path(__file__).with_name("ts")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=TS, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None,
                    reason="Node.js and npm are needed for the TypeScript contract")
def test_typescript_types_compile_and_the_flows_run(server: str) -> None:
    if not (TS / "node_modules" / ".package-lock.json").exists():
        installed = _run("npm", "ci", "--no-audit", "--no-fund")  # the committed package-lock.json
        assert installed.returncode == 0, installed.stdout + installed.stderr
    generated = _run("npx", "--no-install", "openapi-typescript", "../../../openapi/openapi.json",
                     "-o", "generated/api.d.ts")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "warn" not in (generated.stdout + generated.stderr).lower(), generated.stdout + generated.stderr
    # tsc also fails when a line marked `@ts-expect-error` compiles: each such mistake must stay an error.
    # It writes build/ only when everything type-checks (noEmitOnError).
    checked = _run("npx", "--no-install", "tsc", "-p", "tsconfig.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    ran = _run("node", "build/main.js", server, DEMO_PASSWORD)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    answers = json.loads(ran.stdout)
    complaint = answers["complaint"]
    assert complaint["receiptNo"].startswith("JINS-") and complaint["replayed"] is True
    assert complaint["states"] == ["received", "accepted", "in_progress", "closed"]
    assert complaint["rating"] == 5
    assert answers["clue"]["clueNo"] and answers["clue"]["listed"] is True
    assert answers["suggestion"]["number"].startswith("JINS-JY-") and answers["suggestion"]["state"] == "submitted"
