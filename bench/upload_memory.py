"""How much a worker's memory grows while it takes one large upload: `python -m bench.upload_memory [MiB]`.

Starts Jianwu as `make run` does (one worker, the bench's own ports and data directory), files an anonymous
complaint, uploads one recording of the given size (default 150 MiB: an MP4 of zeros) and prints the worker's
resident memory before and after. Uploads are stored from the spooled file a chunk at a time, so the growth
should be a few MiB, not the file's size."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

from bench.server import BenchServer


def _worker_rss_mib() -> int:
    # granian's supervisor and its worker: the worker is the newer process.
    pids = subprocess.run(["pgrep", "-f", "granian"], capture_output=True, text=True).stdout.split()
    status = Path(f"/proc/{max(pids, key=int)}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) // 1024


def _recording(path: Path, mib: int) -> None:
    with path.open("wb") as f:
        f.write((24).to_bytes(4, "big") + b"ftypisom" + b"\0\0\0\0" + b"isomiso2")
        f.write((mib * 1024 * 1024 + 8).to_bytes(4, "big") + b"mdat")
        for _ in range(mib):
            f.write(b"\0" * 1024 * 1024)


def main(mib: int = 150) -> None:
    """Run once and print the figures."""
    with tempfile.TemporaryDirectory(prefix="jianwu-upload-") as tmp:
        server = BenchServer(data_dir=Path(tmp) / "data", log_path=Path(tmp) / "server.log",
                             extra_env={"JIANWU_WORKERS": "1"})
        server.start()
        try:
            api = f"http://{server.host}:{server.api_port}/api/v1"
            filed = httpx.post(f"{api}/public/complaints", headers={"Idempotency-Key": f"k-{uuid.uuid4().hex}"},
                               json={"office": "jinshan", "category": "accusation", "title": "上传内存测试",
                                     "body": "一次大文件上传占用多少内存。"}).json()
            clip = Path(tmp) / "clip.mp4"
            _recording(clip, mib)
            before = _worker_rss_mib()
            with clip.open("rb") as f:
                resp = httpx.post(f"{api}/public/complaints/{filed['receiptNo']}/attachments", timeout=300,
                                  headers={"Idempotency-Key": f"k-{uuid.uuid4().hex}",
                                           "X-Query-Code": filed["queryCode"]},
                                  files={"file": ("clip.mp4", f, "video/mp4")})
            after = _worker_rss_mib()
            print(f"upload {mib} MiB: HTTP {resp.status_code}; worker RSS {before} MiB before, {after} MiB after "
                  f"(+{after - before} MiB)")
        finally:
            server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 150)
