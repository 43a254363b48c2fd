"""Drill: two API instances and two delivery workers on one PostgreSQL and one Redis (the API keeps no state).

Two `jianwu serve` processes (A and B: each granian with 2 workers and one delivery worker, `python -m push`, what
`jianwu worker` runs), on separate ports and data directories with the same settings (JIANWU_SECRET_KEY, the limits,
the provider URLs), as two machines behind a load balancer would be. Requests carry X-Forwarded-For (127.0.0.1 is a
trusted proxy), so each sign-in and each rate-limit check has a client address of its own.

Promises, each measured across the two instances:
- idempotency: the same Idempotency-Key sent at the same moment to A and to B (KEYS keys a round, ROUNDS rounds)
  files one complaint; one answer is the original, the other its replay (`Idempotent-Replayed: true`, same id and
  receipt number);
- revocation within a second: a token signed out on one instance is refused by the other within 1 s (the worst
  delay over TRIES tries is printed);
- shared rate limits: JIANWU_LOGIN_IP_LIMIT sign-in attempts per address and the 30 anonymous filings per address
  and hour are counted once for both instances, not once per instance;
- random assignment: the same assignment command raced on both instances assigns once (one draw on record, one
  notification); two different commands raced are serialised (the second draws among the others); the draws are
  spread evenly over the eligible handlers (chi-square);
- two delivery workers on one outbox: every notification once in the inbox and once at its provider, none lost.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from bench.http1 import form
from drills.client import Answer, Verdict, call, on_sigterm, tally
from drills.stack import Stack, descendants
from drills.stack import alive as pid_alive

NAME = "two_instances"
LOGIN_LIMIT = 12                 # JIANWU_LOGIN_IP_LIMIT for this drill: attempts per address per 5 minutes
ANON_LIMIT = 30                  # JIANWU_ANONYMOUS_FILING_IP_LIMIT, left at its default: anonymous filings per address per hour
KEYS, ROUNDS = 40, 4             # idempotency: keys sent to both instances at once, per round
TRIES = 8                        # revocation
REVOKE_LIMIT_S = 1.0
RACED = 40                       # items assigned twice more, with two different commands at once
HANDLERS = 6                     # eligible handlers added to the demo office's two (prosecutor, assistant)
NOTIFICATIONS = 2000             # straight into the outbox, at 1000 a second
# Chi-square critical values at p = 0.0001 by degrees of freedom. The drill runs in every CI run, and at p = 0.001 a
# fair draw failed one (24.40 against 24.32); the biases the check is there for (one handler always drawn, or half of
# them never) give 160 to over 1,000 with 160 draws, far past either threshold.
CHI2_CRITICAL = {1: 15.14, 2: 18.42, 3: 21.11, 4: 23.51, 5: 25.74, 6: 27.86, 7: 29.88, 8: 31.83, 9: 33.72}
PASSWORD = "jianwu-demo"
TEAM, KEY_ID, TOPIC, APP_ID, APP_SECRET = "DRILLTEAM1", "DRILLKEY01", "cn.jianwu.app", "30000001", "drill-secret"
ITEMS = "/api/v1/staff/complaints"

_addresses = itertools.count(1)


def address() -> str:
    """A client address no other request of the drill uses (TEST-NET-2: never a real client)."""
    n = next(_addresses)
    return f"198.51.{100 + n // 250}.{n % 250 + 1}"


def _item(title: str) -> bytes:
    # tests/helpers.py `item`: a valid filing for the demo office jinshan.
    return json.dumps({"office": "jinshan", "category": "accusation", "title": title,
                       "body": "2026年11月在某窗口办事时被收取不合理费用，请依法处理。",
                       "location": {"address": "上海市金山区石化街道"}}, ensure_ascii=False).encode()


JSON = {"Content-Type": "application/json"}


def _bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **JSON, **extra}


# ---- the provider fakes, in a thread of their own (the drill's requests run in their own event loops) -------------
class Providers:
    """The local APNs and Huawei fakes both instances' delivery workers send to."""

    def __init__(self, work: Path) -> None:
        from push.fakes.apns import FakeApns
        from push.fakes.huawei import FakeHuawei
        from push.process import dev_key_pair

        private, public = dev_key_pair()
        self.key_file = work / "AuthKey.p8"
        self.key_file.parent.mkdir(parents=True, exist_ok=True)
        self.key_file.write_text(private)
        self.apns = FakeApns(public, team_id=TEAM, key_id=KEY_ID, topic=TOPIC)
        self.huawei = FakeHuawei(app_id=APP_ID, client_secret=APP_SECRET)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="providers", daemon=True)
        self.servers: list[Any] = []

    def start(self) -> dict[str, str]:
        """Start the fakes; the settings that point a delivery worker at them."""
        from push.fakes.server import FakeServer

        self.thread.start()
        for app in (self.apns, self.huawei):
            self.servers.append(asyncio.run_coroutine_threadsafe(FakeServer(app).start(), self.loop).result(20))
        apns, huawei = self.servers
        return {"JIANWU_PUSH_FAKES": "0", "JIANWU_APNS_KEY_FILE": str(self.key_file), "JIANWU_APNS_KEY_ID": KEY_ID,
                "JIANWU_APNS_TEAM_ID": TEAM, "JIANWU_APNS_TOPIC": TOPIC, "JIANWU_APNS_URL": apns.url,
                "JIANWU_HUAWEI_APP_ID": APP_ID, "JIANWU_HUAWEI_CLIENT_SECRET": APP_SECRET,
                "JIANWU_HUAWEI_TOKEN_URL": f"{huawei.url}/oauth2/v3/token", "JIANWU_HUAWEI_PUSH_URL": huawei.url}

    def stop(self) -> None:
        for server in self.servers:
            asyncio.run_coroutine_threadsafe(server.stop(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


# ---- sign-ins, each from an address of its own -----------------------------------------------------------------------
async def staff_token(port: int, username: str) -> str:
    headers, body = form({"grant_type": "password", "client_id": "staff-app", "username": username,
                          "password": PASSWORD})
    a = await call(port, "POST", "/api/v1/auth/token", {**headers, "X-Forwarded-For": address()}, body)
    if a.status != 200:
        raise RuntimeError(f"drills: sign-in of {username} answered {a.status}: {a.body[:300]!r}")
    return str(a.json()["access_token"])


async def citizen_token(stack: Stack) -> str:
    """A new citizen through the code flow (the code is read from instance A's development SMS outbox)."""
    phone, ip = f"158{uuid.uuid4().int % 10**8:08d}", address()
    a = await call(stack.api_port, "POST", "/api/v1/auth/otp", {**JSON, "X-Forwarded-For": ip},
                   json.dumps({"phone": phone}).encode())
    if a.status != 202:
        raise RuntimeError(f"drills: OTP request answered {a.status}: {a.body[:300]!r}")
    lines = [json.loads(x) for x in (stack.data / "sms-outbox.jsonl").read_text().splitlines() if phone in x]
    code = re.search(r"\d{6}", lines[-1]["text"]).group()  # type: ignore[union-attr]
    headers, body = form({"grant_type": "urn:jianwu:otp", "client_id": "public-app", "phone": phone, "code": code})
    a = await call(stack.api_port, "POST", "/api/v1/auth/token", {**headers, "X-Forwarded-For": ip}, body)
    if a.status != 200:
        raise RuntimeError(f"drills: citizen sign-in answered {a.status}: {a.body[:300]!r}")
    return str(a.json()["access_token"])


# ---- idempotency ----------------------------------------------------------------------------------------------------
def _settled(a: Answer) -> bool:
    return a.status not in (None, 503) and not (a.status == 409 and a.code == "idempotency_in_progress")


async def _until_settled(port: int, path: str, headers: dict[str, str], body: bytes, log: list[Answer]) -> Answer:
    """Send, and send again (as a client does) while there is no answer, a 503 or `idempotency_in_progress`."""
    for _ in range(40):
        a = await call(port, "POST", path, headers, body)
        log.append(a)
        if _settled(a):
            return a
        await asyncio.sleep(0.25)
    return a


async def idempotency(ports: tuple[int, int], token: str, run: str) -> dict[str, Any]:
    """KEYS keys a round, each sent to A and to B at the same moment; the final answers by key."""
    finals: dict[str, tuple[Answer, Answer]] = {}
    rounds: list[list[Answer]] = []
    titles: dict[str, str] = {}
    for r in range(ROUNDS):
        attempts: list[Answer] = []
        rounds.append(attempts)

        async def pair(key: str, title: str, attempts: list[Answer]) -> None:
            headers, body = _bearer(token, **{"Idempotency-Key": key}), _item(title)
            finals[key] = tuple(await asyncio.gather(  # type: ignore[assignment]
                *(_until_settled(p, "/api/v1/me/complaints", headers, body, attempts) for p in ports)))

        batch = {f"twoinst-{run}-{r}-{i:03d}": f"双实例{run}-{r}-{i:03d}" for i in range(KEYS)}
        titles.update(batch)
        await asyncio.gather(*(pair(k, t, attempts) for k, t in batch.items()))
    return {"finals": finals, "attempts": [x for r in rounds for x in r], "rounds": rounds, "titles": titles}


# ---- revocation -----------------------------------------------------------------------------------------------------
async def _hammer(port: int, token: str, until: float, out: list[Answer]) -> None:
    while time.monotonic() < until:
        out.append(await call(port, "GET", "/api/v1/auth/me", _bearer(token), timeout=5))


async def revocation_try(ports: tuple[int, int], username: str) -> dict[str, Any]:
    """Sign in, use the token on the other instance, sign out on one, and watch the other refuse it."""
    here, there = ports
    token = await staff_token(here, username)
    warm = await asyncio.gather(*(call(there, "GET", "/api/v1/auth/me", _bearer(token)) for _ in range(6)))
    seen: list[Answer] = []
    began = time.monotonic()
    # Four loops on fresh connections, so both of the other instance's granian workers are asked all along.
    loops = [asyncio.create_task(_hammer(there, token, began + 0.2 + REVOKE_LIMIT_S + 0.3, seen)) for _ in range(4)]
    await asyncio.sleep(0.2)
    out = await call(here, "POST", "/api/v1/auth/logout", _bearer(token))
    await asyncio.gather(*loops)
    revoked = out.done
    after = [a for a in seen if a.sent >= revoked]
    accepted = [a for a in after if a.status == 200]
    refused = [a for a in after if a.status == 401]
    return {"warm": [a.status for a in warm], "logout": out.status, "before": [a.status for a in seen
                                                                             if a.done < out.sent],
            "after": len(after), "accepted": len(accepted), "refused": len(refused),
            "others": sorted({(a.status, a.code) for a in after if a.status not in (200, 401)}, key=str),
            "worst": max((a.done - revoked for a in accepted), default=0.0),
            "took": out.done - out.sent,
            "last_ok": max((a.done - out.sent for a in seen if a.status == 200), default=None),
            "first_refusal": min((a.done - revoked for a in refused), default=None),
            "late": [a for a in accepted if a.sent >= revoked + REVOKE_LIMIT_S], "answers": seen + [out, *warm]}


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:+.0f}"


# ---- shared rate limits ---------------------------------------------------------------------------------------------
async def login_limit(ports: tuple[int, int]) -> list[tuple[int, Answer]]:
    """3 x LOGIN_LIMIT sign-in attempts from one address, one after the other, to A and B in turn (so a count
    kept per instance would let 2 x LOGIN_LIMIT through, LOGIN_LIMIT on each)."""
    ip = address()
    out = []
    for i in range(3 * LOGIN_LIMIT):
        headers, body = form({"grant_type": "password", "client_id": "staff-app",
                              "username": f"nobody-{uuid.uuid4().hex[:12]}", "password": "wrong-password"})
        out.append((i % 2, await call(ports[i % 2], "POST", "/api/v1/auth/token", {**headers, "X-Forwarded-For": ip},
                                      body)))
    return out


async def anonymous_limit(ports: tuple[int, int], run: str) -> list[tuple[int, Answer]]:
    """ANON_LIMIT + 10 anonymous filings from one address, alternately to A and B, all at once."""
    ip = address()

    async def one(i: int) -> tuple[int, Answer]:
        headers = {**JSON, "X-Forwarded-For": ip, "Idempotency-Key": f"twoinst-anon-{run}-{i:03d}"}
        return i % 2, await call(ports[i % 2], "POST", "/api/v1/public/complaints/", headers,
                                 _item(f"双实例匿名{run}-{i:03d}"))

    return list(await asyncio.gather(*(one(i) for i in range(ANON_LIMIT + 10))))


# ---- assignment -----------------------------------------------------------------------------------------------------
async def _bounded(coros: list[Any], width: int = 16) -> list[Any]:
    sem = asyncio.Semaphore(width)

    async def one(c: Any) -> Any:
        async with sem:
            return await c
    return list(await asyncio.gather(*(one(c) for c in coros)))


async def accept_all(ports: tuple[int, int], token: str, ids: list[str]) -> list[Answer]:
    return await _bounded([call(ports[i % 2], "POST", f"{ITEMS}/{cid}/steps", _bearer(token),
                                b'{"step": "accept"}') for i, cid in enumerate(ids)])


async def assign_same(ports: tuple[int, int], token: str, ids: list[str], run: str) -> list[tuple[Answer, Answer]]:
    """The same assignment command (one Idempotency-Key) sent to A and B at the same moment, per item."""
    async def pair(cid: str) -> tuple[Answer, Answer]:
        headers = _bearer(token, **{"Idempotency-Key": f"twoinst-assign-{run}-{cid}"})
        a, b = await asyncio.gather(*(call(p, "POST", f"{ITEMS}/{cid}/assignment", headers, b'{"mode": "random"}')
                                      for p in ports))
        return a, b
    return await _bounded([pair(cid) for cid in ids], 12)


async def assign_different(ports: tuple[int, int], token: str, ids: list[str]) -> list[tuple[Answer, Answer]]:
    """Two different assignment commands (no key) sent to A and B at the same moment, per item."""
    async def pair(cid: str) -> tuple[Answer, Answer]:
        a, b = await asyncio.gather(*(call(p, "POST", f"{ITEMS}/{cid}/assignment", _bearer(token),
                                           b'{"mode": "random"}') for p in ports))
        return a, b
    return await _bounded([pair(cid) for cid in ids], 12)


# ---- delivery -------------------------------------------------------------------------------------------------------
async def seed_phones(db_url: str, count: int) -> list[uuid.UUID]:
    """`count` citizens with one phone each, APNs and Huawei alternately (as bench.push_fanout does)."""
    users = [uuid.uuid4() for _ in range(count)]
    conn = await asyncpg.connect(db_url)
    try:
        await conn.copy_records_to_table(
            "users", records=[(u, "citizen", f"演练用户 {i}", f"drill-{u.hex}") for i, u in enumerate(users)],
            columns=["id", "kind", "display_name", "phone_index"])
        await conn.copy_records_to_table(
            "push_devices", records=[(u, "ios" if i % 2 == 0 else "android", "apns" if i % 2 == 0 else "huawei",
                                      f"{'a' if i % 2 == 0 else 'h'}{u.hex}", "1.0", "zh-CN")
                                     for i, u in enumerate(users)],
            columns=["user_id", "platform", "channel", "token", "app_version", "locale"])
    finally:
        await conn.close()
    return users


async def wait_sent(db_url: str, users: list[uuid.UUID], limit: float) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        deadline = time.monotonic() + limit
        while True:
            sent = int(await conn.fetchval(
                "select count(*) from deliveries d join inbox i on i.id = d.notification_id"
                " where d.state = 'sent' and i.user_id = any($1::uuid[])", users))
            if sent >= len(users) or time.monotonic() > deadline:
                return sent
            await asyncio.sleep(0.25)
    finally:
        await conn.close()


def push_workers(stack: Stack) -> list[int]:
    """The delivery worker processes below one `jianwu serve`."""
    if stack.serve is None:
        return []
    out = []
    for pid in descendants(stack.serve.pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"-m" in cmd and b"push" in cmd:
            out.append(pid)
    return out


# ---- the drill ------------------------------------------------------------------------------------------------------
def main() -> int:
    on_sigterm()
    print(f"drill {NAME}: two `jianwu serve` instances (2 granian workers and 1 delivery worker each) on one "
          f"PostgreSQL and Redis", flush=True)
    v = Verdict(NAME)
    env = {"JIANWU_SECRET_KEY": "drill-two-instances-" + "k" * 40, "JIANWU_TRUSTED_PROXIES": "127.0.0.1",
           "JIANWU_LOGIN_IP_LIMIT": str(LOGIN_LIMIT)}
    a = Stack(NAME, env=env)
    providers = Providers(a.dir / "providers")
    b: Stack | None = None
    error: BaseException | None = None
    try:
        a.extra_env.update(providers.start())
        a.start()
        b = a.twin("b")
        b_ready = b.start_api()
        ports = (a.api_port, b.api_port)
        workers = (push_workers(a), push_workers(b))
        print(f"  instance B :{b.api_port} ready after {b_ready:.1f}s (log drills/out/{NAME}/server-b.log); "
              f"delivery workers {workers[0]} and {workers[1]}", flush=True)
        run = uuid.uuid4().hex[:8]

        # ---- 1. idempotency across instances ----
        t = time.monotonic()
        citizen = asyncio.run(citizen_token(a))
        idem = asyncio.run(idempotency(ports, citizen, run))
        v.add(tally(idem["attempts"]))
        finals: dict[str, tuple[Answer, Answer]] = idem["finals"]
        originals = collections.Counter()
        bad_pairs = []
        for key, pair in finals.items():
            ids = {(x.json() or {}).get("id") for x in pair if x.status == 201}
            replayed = [x.headers.get("idempotent-replayed") == "true" for x in pair]
            if any(x.status != 201 for x in pair) or len(ids) != 1 or sorted(replayed) != [False, True] \
                    or pair[0].json() != pair[1].json():
                bad_pairs.append((key, [x.status for x in pair], replayed))
            else:
                originals["A" if not replayed[0] else "B"] += 1
        retried = {f"round {n + 1}": dict(collections.Counter(f"{x.status} {x.code}" for x in r if not _settled(x)))
                   for n, r in enumerate(idem["rounds"]) if any(not _settled(x) for x in r)}
        unavailable = [x for x in idem["attempts"] if x.status == 503]
        rows = asyncio.run(a.sql("select title, count(*) as n from complaints where title like $1 group by title",
                                 f"双实例{run}-%"))
        per_title = {r["title"]: r["n"] for r in rows}
        dup = sum(n - 1 for n in per_title.values())
        missing = [tt for tt in idem["titles"].values() if tt not in per_title]
        v.counts["duplicated"] += dup + len(bad_pairs)
        v.counts["lost"] += len(missing)
        print(f"  idempotency: {len(finals)} keys ({ROUNDS} rounds of {KEYS}) each sent to A and B at once, "
              f"{len(idem['attempts'])} requests (sent again after {dict(retried) or 'none'}) in "
              f"{time.monotonic() - t:.1f}s; originals answered by A {originals['A']}, by B {originals['B']}",
              flush=True)
        v.check(not bad_pairs, f"each key: both answers 201 with the same complaint, one original and one replay "
                f"(Idempotent-Replayed: true) ({len(finals) - len(bad_pairs)}/{len(finals)}; bad: {bad_pairs[:5]})")
        v.check(all("retry-after" in x.headers for x in unavailable),
                f"every 503 carries Retry-After ({len(unavailable)} answered 503: {retried or 'none'})")
        v.check(dup == 0 and not missing and len(per_title) == len(finals),
                f"one complaint per key in PostgreSQL ({sum(per_title.values())} rows for {len(finals)} keys, "
                f"{dup} duplicates, {len(missing)} missing)")

        # ---- 2. revocation within a second, across instances ----
        staff = ["jinshan.prosecutor", "jinshan.assistant", "jinshan.dept_head", "jinshan.chief"]
        tries = []
        for i in range(TRIES):
            direction = ports if i % 2 == 0 else ports[::-1]
            tries.append(asyncio.run(revocation_try(direction, staff[i % len(staff)])))
            v.add(tally(tries[-1]["answers"]))
        worst = max(x["worst"] for x in tries)
        firsts = [x["first_refusal"] for x in tries if x["first_refusal"] is not None]
        print("  revocation: " + "; ".join(
            f"{'A→B' if i % 2 == 0 else 'B→A'} sign-out {x['took'] * 1000:.0f} ms, last 200 "
            f"{_ms(x['last_ok'])} ms from its start, first 401 {_ms(x['first_refusal'])} ms after its answer, "
            f"{x['accepted']}/{x['after']} later requests accepted" for i, x in enumerate(tries)), flush=True)
        v.check(all(set(x["warm"]) == {200} and x["logout"] == 204 and set(x["before"]) <= {200} for x in tries),
                "each token worked on the other instance before it was signed out (200), sign-out 204")
        v.check(all(x["refused"] > 0 and not x["late"] and not x["others"] for x in tries) and worst <= REVOKE_LIMIT_S,
                f"a token signed out on one instance is refused (401) by the other within {REVOKE_LIMIT_S:g} s: "
                f"worst delay {worst * 1000:.0f} ms over {TRIES} tries (last acceptance after the sign-out "
                f"answered), first refusal after {min(firsts, default=0) * 1000:.0f}-"
                f"{max(firsts, default=0) * 1000:.0f} ms; other answers {[x['others'] for x in tries if x['others']]}")

        # ---- 3. shared rate limits ----
        logins = asyncio.run(login_limit(ports))
        v.add(tally([x for _, x in logins]))
        allowed = [(i, x) for i, x in logins if x.status != 429]
        limited = [(i, x) for i, x in logins if x.status == 429]
        def split(xs: list[tuple[int, Answer]]) -> str:
            return f"{sum(1 for i, _ in xs if i == 0)} on A, {sum(1 for i, _ in xs if i == 1)} on B"
        first_429 = next((n + 1 for n, (_, x) in enumerate(logins) if x.status == 429), None)
        print(f"  sign-in limit {LOGIN_LIMIT}/address: {len(logins)} attempts from one address, to A and B in "
              f"turn: {len(allowed)} counted and refused as wrong ({split(allowed)}), {len(limited)} answered 429 "
              f"({split(limited)}), the first 429 at attempt {first_429}", flush=True)
        v.check(len(allowed) == LOGIN_LIMIT and all(x.status == 400 for _, x in allowed)
                and [x.status for _, x in logins[:LOGIN_LIMIT]] == [400] * LOGIN_LIMIT
                and all("retry-after" in x.headers for _, x in limited),
                f"the sign-in limit is counted across both instances: {len(allowed)} attempts let through "
                f"(limit {LOGIN_LIMIT}; per instance it would be {2 * LOGIN_LIMIT}), every 429 with Retry-After "
                f"(statuses {dict(collections.Counter(x.status for _, x in logins))})")
        anon = asyncio.run(anonymous_limit(ports, run))
        v.add(tally([x for _, x in anon]))
        filed = [(i, x) for i, x in anon if x.status == 201]
        print(f"  anonymous filing limit {ANON_LIMIT}/address/hour: {len(anon)} filings from one address at once, "
              f"half to each instance: {len(filed)} filed ({split(filed)}), "
              f"{sum(1 for _, x in anon if x.status == 429)} answered 429", flush=True)
        v.check(len(filed) == ANON_LIMIT and all(x.status == 429 for _, x in anon if x.status != 201),
                f"the anonymous filing limit is counted across both instances: {len(filed)} filed (limit "
                f"{ANON_LIMIT}), the rest 429 ({dict(collections.Counter(x.status for _, x in anon))})")

        # ---- 4. random assignment raced on both instances ----
        office = asyncio.run(a.sql("select id from offices where code = 'jinshan'"))[0]["id"]
        asyncio.run(a.sql(
            "insert into users (kind, office_id, username, display_name, roles)"
            " select 'staff', $1, 'jinshan.drill-handler' || n, '演练承办人' || n, '{prosecutor}'"
            " from generate_series(1, $2) as n", office, HANDLERS))
        eligible = {str(r["id"]) for r in asyncio.run(a.sql(
            "select id from users where office_id = $1 and kind = 'staff' and disabled_at is null"
            " and roles && '{prosecutor,assistant}'::text[]", office))}
        officer = asyncio.run(staff_token(a.api_port, "jinshan.complaints_office"))
        ids = [str((pair[0].json() or {}).get("id")) for pair in finals.values() if pair[0].status == 201]
        accepted = asyncio.run(accept_all(ports, officer, ids))
        v.add(tally(accepted))
        v.check(all(x.status == 200 for x in accepted), f"{len(ids)} items accepted on A and B in turn "
                f"({dict(collections.Counter(x.status for x in accepted))})")
        t = time.monotonic()
        same = asyncio.run(assign_same(ports, officer, ids, run))
        v.add(tally([x for p in same for x in p]))
        raced = ids[:RACED]
        different = asyncio.run(assign_different(ports, officer, raced))
        v.add(tally([x for p in different for x in p]))
        events = asyncio.run(a.sql(
            "select subject_id::text as id, data from timeline_events where type = 'step.assign'"
            " and subject_id = any($1::uuid[]) order by id", ids))
        by_item: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for e in events:
            by_item[e["id"]].append(json.loads(e["data"]) if isinstance(e["data"], str) else e["data"])
        final = {r["id"]: str(r["assignee_id"]) for r in asyncio.run(a.sql(
            "select id::text as id, assignee_id from complaints where id = any($1::uuid[])", ids))}
        notices = collections.Counter(r["cid"] for r in asyncio.run(a.sql(
            "select payload->>'complaintId' as cid from outbox where topic = 'complaint.assigned'"
            " and payload->>'complaintId' = any($1::text[])", ids)))
        bad_same = [cid for cid, (x, y) in zip(ids, same, strict=True)
                    if x.status != 200 or y.status != 200 or x.json() != y.json()
                    or sorted(z.headers.get("idempotent-replayed") == "true" for z in (x, y)) != [False, True]]
        want = {cid: 3 if cid in raced else 1 for cid in ids}
        wrong_count = [cid for cid in ids if len(by_item[cid]) != want[cid] or notices[cid] != want[cid]]
        first_draws = collections.Counter()
        serial_bad = []
        for cid in ids:
            draws = by_item[cid]
            if not draws:
                continue
            if cid not in raced:
                first_draws[draws[0]["chosen"]] += 1
                if final[cid] != draws[0]["chosen"]:
                    serial_bad.append(cid)
                continue
            # The first draw's pool holds everyone. Of the two raced draws, the one that went first drew among all
            # but the first draw's choice; the second among all but *its* choice (it saw the first's result: the
            # row lock serialised them), and the second's choice is the handler. Unserialised, both pools would
            # lack only the first draw's choice and one answer would be lost.
            ordered = sorted(draws, key=lambda d: len(d["candidates"]), reverse=True)
            first_draws[ordered[0]["chosen"]] += 1
            if len(ordered) != 3 or not any(
                    ordered[0]["chosen"] not in p["candidates"] and p["chosen"] not in q["candidates"]
                    and final[cid] == q["chosen"] for p, q in ((ordered[1], ordered[2]), (ordered[2], ordered[1]))):
                serial_bad.append(cid)
        chosen_all = {d["chosen"] for ds in by_item.values() for d in ds}
        print(f"  assignment: {len(ids)} items, the same command (one key) sent to A and B at once, then "
              f"{len(raced)} of them with two different commands at once, in {time.monotonic() - t:.1f}s", flush=True)
        v.check(not bad_same, f"the same assignment command on both instances: both 200 with the same answer, one "
                f"original and one replay ({len(ids) - len(bad_same)}/{len(ids)})")
        v.check(not wrong_count, f"one draw on record and one notification per command (items with another count: "
                f"{len(wrong_count)} {wrong_count[:3]})")
        v.check(not serial_bad, f"two different commands raced are serialised: the second draws among the others "
                f"and its choice is the handler; never two handlers at once ({len(serial_bad)} wrong)")
        v.check(chosen_all <= eligible, f"every draw is an eligible handler ({len(chosen_all - eligible)} not)")
        n, k = sum(first_draws.values()), len(eligible)
        expected = n / k
        chi2 = sum((first_draws.get(h, 0) - expected) ** 2 / expected for h in eligible)
        critical = CHI2_CRITICAL.get(k - 1, 40.0)
        print(f"  draws per eligible handler ({k}, {n} first draws, {expected:.1f} expected each): "
              f"{sorted(first_draws.get(h, 0) for h in eligible)}", flush=True)
        v.check(chi2 < critical, f"the draw is fair: chi-square {chi2:.2f} with {k - 1} degrees of freedom "
                f"(fails above {critical}, p = 0.0001)")

        # ---- 5. two delivery workers on one outbox ----
        users = asyncio.run(seed_phones(a.db_url, NOTIFICATIONS))
        from bench.push_fanout import emit, requests_by_notification

        t = time.monotonic()
        asyncio.run(emit(a.db_url, users, 1000))
        sent = asyncio.run(wait_sent(a.db_url, users, 45))
        took = time.monotonic() - t
        inbox = asyncio.run(a.sql(
            "select count(*) as n, count(distinct event_id) as events, count(distinct user_id) as users,"
            " array_agg(id::text) as ids from inbox where user_id = any($1::uuid[])", users))[0]
        assigned_events = asyncio.run(a.sql(
            "select count(*) as events, count(*) filter (where delivered_at is not null) as done,"
            " (select count(*) from inbox i join outbox o2 on o2.id = i.event_id"
            "   where o2.topic = 'complaint.assigned' and o2.payload->>'complaintId' = any($1::text[])) as rows"
            " from outbox o where topic = 'complaint.assigned' and payload->>'complaintId' = any($1::text[])",
            ids))[0]
        pending = asyncio.run(a.sql("select count(*) as n from outbox where delivered_at is null"))[0]["n"]
        seen = requests_by_notification(providers)  # type: ignore[arg-type]
        mine = set(inbox["ids"] or [])
        at_provider = {k: len(x) for k, x in seen.items() if k in mine}
        twice = sum(n - 1 for n in at_provider.values())
        never = len(mine) - len(at_provider)
        lost = NOTIFICATIONS - inbox["n"]
        v.counts["lost"] += max(lost, 0) + never
        v.counts["duplicated"] += (inbox["n"] - inbox["events"]) + twice
        alive = [all(pid_alive(p) for p in ws) and bool(ws) for ws in workers]
        # Each worker fetched an access token of its own from the Huawei fake: its sends are told apart by it.
        by_worker = sorted(collections.Counter(rec.headers.get("authorization", "") for rec in
                                               providers.huawei.requests).values(), reverse=True)
        print(f"  delivery: {NOTIFICATIONS} notifications into the outbox at 1000/s, {sent} sent to the providers "
              f"in {took:.1f}s; inbox rows {inbox['n']} ({inbox['events']} events, {inbox['users']} users); "
              f"provider requests {sum(at_provider.values())} ({twice} twice, {never} never); outbox rows still "
              f"pending {pending}", flush=True)
        v.check(all(alive), f"both delivery workers ran throughout (A {workers[0]}, B {workers[1]}: alive {alive})")
        v.check(len(by_worker) == 2 and min(by_worker) > 0, f"both delivery workers sent: Huawei requests by "
                f"worker (its access token) {by_worker}; {providers.huawei.token_requests} tokens fetched")
        v.check(inbox["n"] == NOTIFICATIONS and inbox["events"] == NOTIFICATIONS and inbox["users"] == NOTIFICATIONS,
                f"every notification once in the inbox ({inbox['n']} rows for {NOTIFICATIONS}, none twice)")
        v.check(sent == NOTIFICATIONS and never == 0 and twice == 0,
                f"every notification sent once to its provider ({sent} recorded sent, {twice} sent twice, "
                f"{never} never)")
        v.check(assigned_events["done"] == assigned_events["events"] and
                assigned_events["rows"] == assigned_events["events"] and pending == 0,
                f"the assignment notices: {assigned_events['events']} events, {assigned_events['done']} delivered, "
                f"{assigned_events['rows']} inbox rows; no outbox row left pending ({pending})")
        v.clean_log(a)
        v.clean_log(b)
    except BaseException as exc:  # noqa: BLE001 - reported as a failed drill, after cleaning up
        error = exc
    finally:
        if b is not None:
            b.close()
        a.close()
        providers.stop()
    return v.finish(error if not isinstance(error, SystemExit) else RuntimeError("stopped by a signal"))


if __name__ == "__main__":
    raise SystemExit(main())
