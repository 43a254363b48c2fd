"""Sending text messages: an interface, and the development provider that writes them to a file."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Protocol

import msgspec

__all__ = ("FileSmsProvider", "SmsProvider")


class SmsProvider(Protocol):
    """Anything that can deliver one text message to a mainland mobile number."""

    async def send(self, to: str, text: str) -> None:
        """Deliver the message or raise."""


# The sign-in code or one-time password in a message; a developer's script reads it from `code` (messages to
# come may word the text differently, the field stays).
_CODE = re.compile(r"(?:验证码是|一次性密码：)\s*(\S+?)[，,。\s]")


class FileSmsProvider:
    """Appends each message as one JSON line (`to`, `text`, and `code` when it carries a sign-in code or one-time
    password) to sms-outbox.jsonl in the data directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _append(self, line: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write() on an O_APPEND file: lines from several workers never interleave.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    async def send(self, to: str, text: str) -> None:
        """Append the message to the outbox file."""
        found = _CODE.search(text)
        line = msgspec.json.encode({"to": to, "text": text, **({"code": found[1]} if found else {})}) + b"\n"
        await asyncio.to_thread(self._append, line)
