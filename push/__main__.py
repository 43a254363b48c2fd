"""`python -m push`: one delivery worker (what `jianwu worker` runs, and `jianwu serve` starts beside the API)."""

from __future__ import annotations

import asyncio

from api.observability import configure_logging
from api.settings import get_settings
from push.process import run_worker

if __name__ == "__main__":
    settings = get_settings()
    configure_logging(settings.log_level)
    asyncio.run(run_worker(settings))
