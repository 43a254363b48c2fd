"""`bare_litestar`: a minimal Litestar app with one JSON route, served by granian with the same workers as Jianwu,
so `/health/live` can be set against the framework's own floor in the same run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from litestar import Litestar, get

__all__ = ("BareServer", "app")

ROOT = Path(__file__).resolve().parents[1]


@get("/health/live", sync_to_thread=False)
def live() -> dict[str, str]:
    """The same answer as Jianwu's liveness route, with nothing around it."""
    return {"status": "ok"}


app = Litestar([live], openapi_config=None)


class BareServer:
    """granian serving `bench.bare:app` on its own port, started and stopped by the bench."""

    def __init__(self, port: int, workers: int, log_path: Path) -> None:
        self.port, self.workers, self.log_path = port, workers, log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start granian; return once the route answers."""
        cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "bench.bare:app", "--host", "127.0.0.1",
               "--port", str(self.port), "--workers", str(self.workers), "--no-ws", "--log-level", "warning"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
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
