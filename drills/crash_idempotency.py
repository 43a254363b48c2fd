"""Drill 3: Jianwu killed with SIGKILL in the middle of a burst of idempotent complaint creations, then restarted.

A signed-in citizen files N complaints (`POST /api/v1/me/complaints`, one Idempotency-Key and one unique title
per logical request), CONCURRENCY at a time. Once KILL_AFTER of them are acknowledged, the granian process group
(the workers) and the `jianwu serve` supervisor are SIGKILLed, as a crash would, and `jianwu serve` is started
again. The client retries every request (same key, same body) until it gets an answer: on no answer, a 503 or a
409 `idempotency_in_progress` it waits a little and sends it again (bounded in count and time).

Promises (README "Signing in", the create route's contract, docs/architecture.md "State"):
- every logical request is finally answered 201, never a 500;
- every complaint acknowledged with 201 exists exactly once in PostgreSQL (counted by title, matched by id and
  receipt number), and nothing else was created;
- re-sending any request afterwards returns the original response (same id and receipt number,
  `Idempotent-Replayed: true`), and every answer a request got during its retries names that same complaint.
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

from drills.client import Answer, Verdict, bearer, call, citizen_token, on_sigterm, tally
from drills.stack import Stack

NAME = "crash_idempotency"
N, CONCURRENCY, KILL_AFTER = 60, 6, 15
BURST_LIMIT_S = 80.0      # the whole burst, crash and restart included
MAX_ATTEMPTS = 400        # per logical request
PATH = "/api/v1/me/complaints"


@dataclass
class Logical:
    """One complaint the client wants filed, and everything it heard back."""

    i: int
    key: str
    title: str
    body: bytes
    attempts: list[Answer] = field(default_factory=list)

    @property
    def final(self) -> Answer | None:
        return self.attempts[-1] if self.attempts and _final(self.attempts[-1]) else None

    def receipt(self, answer: Answer | None = None) -> tuple[str, str] | None:
        data = (answer or self.final).json() if (answer or self.final) else None
        if isinstance(data, dict) and "id" in data:
            return str(data["id"]), str(data.get("receiptNo"))
        return None


def _final(a: Answer) -> bool:
    if a.status is None or a.status == 503:
        return False
    return not (a.status == 409 and a.code == "idempotency_in_progress")


def _item(title: str) -> bytes:
    # tests/helpers.py `item`: a valid filing for the demo office jinshan.
    return json.dumps({"office": "jinshan", "category": "accusation", "title": title,
                       "body": "2026年11月在某窗口办事时被收取不合理费用，请依法处理。",
                       "location": {"address": "上海市金山区石化街道"}}, ensure_ascii=False).encode()


class Burst:
    """The client side, in a thread of its own (the main thread kills and restarts the server)."""

    def __init__(self, port: int, token: str, run: str) -> None:
        self.port = port
        self.headers = {**bearer(token), "Content-Type": "application/json"}
        self.items = [Logical(i, f"drill-{run}-{i:03d}", f"演练{run}-{i:03d}", _item(f"演练{run}-{i:03d}"))
                      for i in range(N)]
        self.acked = 0
        self.kill_now = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="burst", daemon=True)

    async def _one(self, item: Logical, sem: asyncio.Semaphore, deadline: float) -> None:
        async with sem:
            headers = {**self.headers, "Idempotency-Key": item.key}
            for _ in range(MAX_ATTEMPTS):
                if time.monotonic() > deadline:
                    return
                a = await call(self.port, "POST", PATH, headers, item.body, timeout=15)
                item.attempts.append(a)
                if _final(a):
                    if a.status == 201:
                        self.acked += 1
                        if self.acked >= KILL_AFTER:
                            self.kill_now.set()
                    return
                await asyncio.sleep(0.25 if a.status is None else 0.5)

    async def _run(self) -> None:
        sem = asyncio.Semaphore(CONCURRENCY)
        deadline = time.monotonic() + BURST_LIMIT_S
        await asyncio.gather(*(self._one(item, sem, deadline) for item in self.items))
        self.kill_now.set()  # never leave the main thread waiting


async def _replay_all(port: int, headers: dict[str, str], items: list[Logical]) -> dict[int, Answer]:
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(item: Logical) -> tuple[int, Answer]:
        async with sem:
            return item.i, await call(port, "POST", PATH, {**headers, "Idempotency-Key": item.key}, item.body)

    return dict(await asyncio.gather(*(one(x) for x in items)))


def main() -> int:
    on_sigterm()
    print(f"drill {NAME}: {N} idempotent filings, {CONCURRENCY} at a time; SIGKILL after {KILL_AFTER} "
          f"acknowledged, restart, retry until answered", flush=True)
    v = Verdict(NAME)
    stack = Stack(NAME)
    error: BaseException | None = None
    try:
        stack.start()
        token = asyncio.run(citizen_token(stack))
        run = uuid.uuid4().hex[:8]
        burst = Burst(stack.api_port, token, run)
        t0 = time.monotonic()
        burst.thread.start()
        burst.kill_now.wait(BURST_LIMIT_S)
        acked_at_kill = burst.acked
        kill_at = time.monotonic()
        killed = stack.crash_api()
        restart_s = stack.start_api()
        print(f"  SIGKILL at +{kill_at - t0:.1f}s with {acked_at_kill} acknowledged ({killed['processes']} "
              f"processes: supervisor {killed['supervisor']}, granian group {killed['granian']}); "
              f"`jianwu serve` ready again after {restart_s:.1f}s", flush=True)
        burst.thread.join(BURST_LIMIT_S + 20)
        items = burst.items

        # ---- what the client heard ----
        attempts = [a for x in items for a in x.attempts]
        heard = tally(attempts)
        heard["lost"] = 0  # here "lost" counts complaints, below; attempts without an answer are expected
        v.add(heard)
        no_answer = sum(1 for a in attempts if a.status is None)
        in_flight = sum(1 for x in items if any(a.sent < kill_at <= a.done and a.status is None for a in x.attempts))
        retried = sum(1 for x in items if len(x.attempts) > 1)
        # Cut off by the crash yet committed: the retry after the restart was a replay of the stored answer.
        committed = sum(1 for x in items if len(x.attempts) > 1 and x.final is not None
                        and x.final.headers.get("idempotent-replayed") == "true")
        statuses = collections.Counter(a.status for a in attempts)
        print(f"  {len(attempts)} attempts for {N} filings: {dict(sorted(statuses.items(), key=str))}; "
              f"{in_flight} cut off by the crash, {retried} retried, {committed} of them committed before the crash "
              f"(answered by replay)", flush=True)
        finals = collections.Counter(x.final.status if x.final else None for x in items)
        v.check(finals == {201: N}, f"every filing finally answered 201 ({dict(finals)})")
        bad = sorted({(a.status, a.code) for a in attempts if a.status is not None and a.status >= 500
                      and a.status != 503}, key=str)
        v.check(not bad, f"no 5xx other than 503 during the crash and restart ({bad})")
        v.check(in_flight + no_answer > 0, f"the crash hit requests in flight ({in_flight} filings cut off, "
                f"{no_answer} attempts without an answer)")

        # Every 201 a filing got (first answer or replay) must name the same complaint.
        mixed = [x.i for x in items if len({x.receipt(a) for a in x.attempts if a.status == 201}) > 1]

        # ---- afterwards: replay every request once more ----
        acked = [x for x in items if x.final is not None and x.final.status == 201]
        replays = asyncio.run(_replay_all(stack.api_port, burst.headers, acked))
        v.add(tally(list(replays.values())))
        same = [x for x in acked if replays[x.i].status == 201 and x.receipt(replays[x.i]) == x.receipt()
                and replays[x.i].headers.get("idempotent-replayed") == "true"]
        differ = [x.i for x in acked if x not in same]
        v.check(not differ and not mixed,
                f"retries return the original response: {len(same)}/{len(acked)} replays give the same id and "
                f"receipt number (differ: {differ[:10]}; filings told of two complaints: {mixed[:10]})")

        # ---- PostgreSQL: exactly once ----
        rows = asyncio.run(stack.sql(
            "select title, count(*) as n, array_agg(id::text) as ids, array_agg(receipt_no) as receipts "
            "from complaints where title like $1 group by title", f"演练{run}-%"))
        by_title = {r["title"]: r for r in rows}
        lost = [x.i for x in acked if x.title not in by_title]
        dup_rows = sum(r["n"] - 1 for r in rows)
        wrong = [x.i for x in acked if x.title in by_title and by_title[x.title]["n"] == 1
                 and (by_title[x.title]["ids"][0], by_title[x.title]["receipts"][0]) != x.receipt()]
        extra = [t for t in by_title if t not in {x.title for x in acked}]
        v.counts["lost"] += len(lost)
        v.counts["duplicated"] += dup_rows + len(differ) + len(mixed)
        v.check(not lost, f"every acknowledged complaint is in PostgreSQL ({len(acked) - len(lost)}/{len(acked)}; "
                f"lost: {lost[:10]})")
        v.check(dup_rows == 0 and not extra, f"nothing duplicated: {sum(r['n'] for r in rows)} rows for "
                f"{len(by_title)} titles ({dup_rows} duplicate rows, {len(extra)} unacknowledged)")
        v.check(not wrong, f"each row is the one acknowledged (same id and receipt number; wrong: {wrong[:10]})")
        v.clean_log(stack)
    except BaseException as exc:  # noqa: BLE001 - reported as a failed drill, after cleaning up
        error = exc
    finally:
        stack.close()
    return v.finish(error if not isinstance(error, SystemExit) else RuntimeError("stopped by a signal"))


if __name__ == "__main__":
    raise SystemExit(main())
