"""The development SMS outbox gives a script the code in a field of its own, beside the text."""

from __future__ import annotations

import json

from auth.sms import FileSmsProvider


async def test_outbox_lines_carry_the_code(tmp_path) -> None:  # noqa: ANN001
    outbox = FileSmsProvider(tmp_path / "sms-outbox.jsonl")
    await outbox.send("15800000000", "【检务】您的登录验证码是 482913，5分钟内有效。请勿告诉他人。")
    await outbox.send("15800000001", "【检务】账号 li 的一次性密码：Xk9-pq7Rz，72小时内有效，首次登录须修改。请勿告诉他人。")
    await outbox.send("15800000002", "【检务】您的事项已办结。")
    lines = [json.loads(x) for x in outbox.path.read_text().splitlines()]
    assert [line.get("code") for line in lines] == ["482913", "Xk9-pq7Rz", None]
    assert lines[0]["text"].startswith("【检务】您的登录验证码是 482913")
