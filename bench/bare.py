"""`bare_litestar`: a minimal Litestar app with one JSON route, served by granian with the same workers as Jianwu,
so `/health/live` can be set against the framework's own floor in the same run. Its `/verify` route verifies the
request's access token with Jianwu's own verifier and nothing else (`bare_verify`): what an ES256 verification costs
under granian, apart from everything Jianwu's guard does around it."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar, Request, get

from auth.jwt import AUDIENCES, TokenVerifier

__all__ = ("BareServer", "app")

ROOT = Path(__file__).resolve().parents[1]


@get("/health/live", sync_to_thread=False)
def live() -> dict[str, str]:
    """The same answer as Jianwu's liveness route, with nothing around it."""
    return {"status": "ok"}


def _verifier() -> TokenVerifier | None:
    """Jianwu's verifier over the key set the bench hands over (BENCH_BARE_JWKS: Jianwu's published JWKS)."""
    raw = os.environ.get("BENCH_BARE_JWKS")
    if not raw:
        return None

    def coordinate(value: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")

    keys = {k["kid"]: ec.EllipticCurvePublicNumbers(coordinate(k["x"]), coordinate(k["y"]), ec.SECP256R1()).public_key()
            for k in json.loads(raw)["keys"]}
    return TokenVerifier(keys, issuer=os.environ["BENCH_BARE_ISSUER"])


_VERIFIER = _verifier()


@get("/verify", sync_to_thread=False)
def verify(request: Request) -> dict[str, str]:  # type: ignore[type-arg]
    """Verify the Bearer token (read from the scope, as Jianwu's guard reads it) and answer as `live` does."""
    header = next(v for k, v in request.scope["headers"] if k == b"authorization")
    _VERIFIER.verify(header.decode("latin-1").partition(" ")[2], audiences=AUDIENCES)  # type: ignore[union-attr]
    return {"status": "ok"}


app = Litestar([live, verify], openapi_config=None)


class BareServer:
    """granian serving `bench.bare:app` on its own port, started and stopped by the bench."""

    def __init__(self, port: int, workers: int, log_path: Path, jwks: dict[str, Any] | None = None,
                 issuer: str = "") -> None:
        self.port, self.workers, self.log_path = port, workers, log_path
        self.env = {**os.environ, "BENCH_BARE_JWKS": json.dumps(jwks), "BENCH_BARE_ISSUER": issuer} if jwks else None
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start granian; return once the route answers."""
        cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "bench.bare:app", "--host", "127.0.0.1",
               "--port", str(self.port), "--workers", str(self.workers), "--no-ws", "--log-level", "warning"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bench: bare Litestar exited with {self.proc.returncode}")
            with contextlib.suppress(urllib.error.URLError, OSError), \
                    urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/live", timeout=2) as resp:
                if resp.status == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("bench: bare Litestar did not answer in time")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL of its own session after 20 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
