"""The webhook verification docs/partners.md gives agencies' developers accepts what we send and nothing else."""

from __future__ import annotations

import re
import time
from pathlib import Path

from push import signing

DOC = Path(__file__).resolve().parents[2] / "docs" / "partners.md"


def test_the_documented_verifier_accepts_our_signatures_during_a_rotation_and_refuses_forgeries() -> None:
    code = re.search(r"```python\n(import base64.*?)```", DOC.read_text(), re.S)
    assert code is not None, "docs/partners.md lost its verification example"
    scope: dict[str, object] = {}
    exec(code.group(1), scope)  # noqa: S102 - our own documentation's example, run as a partner would
    verify = scope["verify"]
    new, old = signing.new_secret(), signing.new_secret()
    body, now = b'{"type":"partner.transfer.accepted","timestamp":"2026-11-29T00:00:00Z","data":{}}', int(time.time())
    headers = signing.headers([new, old], "msg_2Nq", now, body)
    assert verify(new, headers, body) and verify(old, headers, body)  # type: ignore[operator]
    assert not verify(signing.new_secret(), headers, body)  # type: ignore[operator]
    assert not verify(new, headers, body.replace(b"{}", b'{"x":1}'))  # type: ignore[operator]
    stale = signing.headers([new], "msg_2Nq", now - 600, body)
    assert not verify(new, stale, body)  # type: ignore[operator]
