"""API fuzzing: schemathesis against our own OpenAPI document, in process, with real PostgreSQL and Redis.

Every operation is called with generated (valid and invalid) input and a token whose audience fits it. Every
answer must not be a 5xx, must match the documented status codes, media types, headers and bodies, and an
operation that declares bearer auth must refuse the same call without a token and with a forged one
(`ignored_auth`). A stateful run then chains operations through the links schemathesis infers.

Bounded for CI: a fixed seed, derandomized, no example database, a few examples per operation. `make fuzz` runs
it in a pytest run of its own (own database): the admin fuzzing changes office settings other tests rely on.
"""

from __future__ import annotations

import collections
import json
import os
import re
import threading
import time
import uuid
from typing import Any, Iterator

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from litestar import Litestar
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from api.app import create_app
from api.settings import Settings
from auth.demo import DEMO_CLIENT_SECRET, DEMO_PASSWORD

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

# Fixed and derandomized in CI, so a run is reproducible; JIANWU_FUZZ_SEED=<n> explores other inputs locally.
SEED = int(os.environ.get("JIANWU_FUZZ_SEED", "20261101"))
DERANDOMIZE = "JIANWU_FUZZ_SEED" not in os.environ
# Generated examples per operation in the fuzzing phase (the examples and coverage phases add their own).
EXAMPLES = int(os.environ.get("JIANWU_FUZZ_EXAMPLES", "40"))
STATEFUL_RUNS = 100    # scenarios of the state machine
STATEFUL_STEPS = 10    # most calls in one scenario
TOKEN_TTL = 240.0      # seconds a signed-in token is reused (access tokens live 10 minutes)

# The checks every response goes through (all others are off): no 5xx, only documented statuses, media types,
# headers and bodies, and bearer auth enforced where it is declared.
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "ignored_auth"]

# Known mismatches in files this harness's authors could not change: one check off for one operation each, with
# the reason. Remove an entry once its cause is fixed; the fuzz run then checks that operation fully again.
KNOWN: dict[str, tuple[str, str]] = {}

# Who calls what: the demo account whose audience and permission list fit the operation.
STAFF = "jinshan.prosecutor"
# Staff operations the prosecutor's permission list does not grant (filing for a visitor, triage, assignment,
# transfer, monitoring): the complaints office calls them, so they are exercised past the permission check.
COMPLAINTS_OFFICE_OPS = frozenset({"complaintFileForVisitor", "complaintAssign", "complaintTransfer",
                                   "complaintStep", "complaintDeadlines", "complaintStats"})
# Admin routes act on the admin's own office: another office than the prosecutor's, so what the admin fuzzing
# switches (modules, second factor, permission lists) never reaches the other principals.
ADMIN = "chongming.admin"
# A deputy signs in to the representative app for the /rep routes.
REPRESENTATIVE = "jinshan.deputy"
# POST routes that take an Idempotency-Key (not declared in the document): every call gets a fresh one.
_IDEMPOTENT = re.compile(r"^/api/v1/(public|me|staff)/complaints(/[^/]+/(materials|reviews|attachments|assignment"
                         r"|clock-events|notes|replies|steps|transfer))?/?$|^/api/v1/(staff|rep)/liaison/")
_PLACEHOLDER = "fuzz-principal:"
# Filing needs an existing office and category, which random text never names: half the generated filings are
# plain valid ones (jinshan, a category without extra fields), so items get created and the stateful phase
# follows them to their later operations.
_FILINGS = {"complaintFile": True, "complaintFileAnonymous": True, "complaintFileForVisitor": False}  # has `office`
_PLAIN_CATEGORIES = ["accusation", "civil-appeal", "compensation", "aid", "petition", "consultation"]


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "operations": [{"include-operation-id": op, "checks": {check: {"enabled": False}}}
                       for op, (check, _why) in KNOWN.items()],
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True, "max-steps": STATEFUL_STEPS},
        },
    })


def principal_for(operation_id: str, path: str) -> str | None:
    """Whose token an operation is called with; None for public operations."""
    if path.startswith("/api/v1/me/"):
        return "citizen"
    if path.startswith("/api/v1/rep/"):
        return REPRESENTATIVE
    if path.startswith("/api/v1/staff/liaison/"):
        # The liaison office holds the module's staff actions (the register, suggestions, events, bulletins).
        return "jinshan.liaison_office"
    if path.startswith("/api/v1/staff/"):
        return "jinshan.complaints_office" if operation_id in COMPLAINTS_OFFICE_OPS else STAFF
    if path.startswith("/api/v1/auth/totp/"):
        return STAFF
    if path.startswith("/api/v1/admin/"):
        return ADMIN
    if path == "/api/v1/auth/me":
        return "partner"
    if path.startswith("/api/v1/partner/"):
        # The demo client whose scopes reach the route past the permission check.
        if path.startswith(("/api/v1/partner/hotline/", "/api/v1/partner/open-items")):
            return "client:jinshan-hotline"
        if path.startswith("/api/v1/partner/consultations"):
            return "client:jinshan-ecoenv"
        return "partner"
    if path == "/api/v1/auth/logout":
        return "logout"  # a token of its own per call: signing out revokes it
    return None


class Tokens:
    """Access tokens of the demo accounts, signed in through the API and renewed every few minutes.

    Requests carry a placeholder (`Bearer fuzz-principal:<who>`), which `_App` swaps for the current token as the
    request enters the app: schemathesis builds some cases (its coverage phase) before any token exists.
    """

    def __init__(self, client: asgi.ASGIClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.current: dict[str, str] = {}
        self._at: dict[str, float] = {}
        self._lock = threading.Lock()

    def prepare(self, operation_id: str, path: str) -> None:
        """Before a call (from the test's thread): renew the token the operation uses when it is getting old."""
        who = principal_for(operation_id, path)
        if who is None:
            return
        with self._lock:
            if who == "logout" or time.monotonic() - self._at.get(who, 0.0) > TOKEN_TTL:
                token = self._sign_in("partner" if who == "logout" else who)
                if token is not None:  # an account the admin fuzzing disabled keeps its last token (it gets 401s)
                    self.current[who], self._at[who] = token, time.monotonic()

    def _sign_in(self, who: str) -> str | None:
        if who == "citizen":
            return self._citizen()
        if who == "partner" or who.startswith("client:"):
            form = {"grant_type": "client_credentials", "client_id": who.removeprefix("client:") if ":" in who
                    else "jinshan-police", "client_secret": DEMO_CLIENT_SECRET}
        else:
            app = "representative-app" if who == REPRESENTATIVE else "staff-app"
            form = {"grant_type": "password", "client_id": app, "username": who, "password": DEMO_PASSWORD}
        return self._token(form)

    def _token(self, form: dict[str, str]) -> str | None:
        resp = self.client.post("/api/v1/auth/token", data=form)
        return resp.json()["access_token"] if resp.status_code == 200 else None

    def _citizen(self) -> str | None:
        phone = f"159{uuid.uuid4().int % 10**8:08d}"
        assert self.client.post("/api/v1/auth/otp", json={"phone": phone}).status_code == 202
        lines = (self.settings.data_path / "sms-outbox.jsonl").read_text().splitlines()
        text = [json.loads(x) for x in lines if phone in x][-1]["text"]
        code = re.search(r"\d{6}", text).group()  # type: ignore[union-attr]
        return self._token({"grant_type": "urn:jianwu:otp", "client_id": "public-app", "phone": phone, "code": code})


class _App:
    """The ASGI app schemathesis sends every request to: the `fuzz_app` fixture's app, with placeholder bearer
    tokens swapped for real ones."""

    app: Litestar | None = None
    tokens: Tokens | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.app is not None, "the fuzz_app fixture has not built the app"
        if scope["type"] == "http" and self.tokens is not None:
            scope["headers"] = [(k, self._swap(v) if k == b"authorization" else v) for k, v in scope["headers"]]
        await self.app(scope, receive, send)

    def _swap(self, value: bytes) -> bytes:
        prefix = f"Bearer {_PLACEHOLDER}".encode()
        if not value.startswith(prefix):
            return value
        token = self.tokens.current.get(value[len(prefix):].decode())  # type: ignore[union-attr]
        return f"Bearer {token}".encode() if token else value


# The document the app serves at /schema/openapi.json, built from the code; the `fuzz_app` fixture checks that the
# running app serves exactly this. Loaded at import: the pytest integration makes one test per operation.
_DOCUMENT = create_app(Settings(env="test", access_log=False, log_level="WARNING")).openapi_schema.to_schema()
_APP = _App()
schema = schemathesis.openapi.from_dict(_DOCUMENT, config=_config())
schema.app = _APP
# Statuses answered per operation, stateless and stateful: checked at the end (the run got past the auth layer).
SEEN: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)


@schema.auth(refresh_interval=None)
class BearerForAudience:
    """The bearer token whose audience fits the operation (see `principal_for`), as a placeholder."""

    def get(self, case: Any, context: Any) -> str | None:
        return principal_for(case.operation.definition.raw.get("operationId", ""), case.path)

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {_PLACEHOLDER}{data}"


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    operation_id = context.operation.definition.raw.get("operationId") if context.operation else None
    if operation_id not in _FILINGS:
        return st.just(body)
    office = {"office": "jinshan"} if _FILINGS[operation_id] else {"channel": "walk_in"}
    filing = st.builds(lambda category, title, text: {**office, "category": category, "title": title, "body": text},
                       st.sampled_from(_PLAIN_CATEGORIES), st.text(min_size=1, max_size=40),
                       st.text(min_size=1, max_size=400))
    return st.one_of(st.just(body), filing)


def _short_wait(value: Any) -> Any:
    """A `wait` the feed would honour, cut to one second; anything else is left for the server to refuse."""
    if isinstance(value, list):
        return [_short_wait(each) for each in value]
    try:
        seconds = float(str(value))
    except ValueError:
        return value
    return min(int(seconds), 1) if 0 <= seconds < 1e9 else value


def _prepare(case: Any) -> dict[str, str]:
    """Before each call: a fresh token when due, and a fresh Idempotency-Key for commands that take one."""
    assert _APP.tokens is not None
    _APP.tokens.prepare(case.operation.definition.raw.get("operationId", ""), case.path)
    if isinstance(case.query, dict) and "wait" in case.query:
        # The partner feed long-polls up to `wait` seconds: asked for any value, answered within one second here.
        # The value may come as an int, a float or its text (explicit and shrunk examples), so it is read as text.
        case.query["wait"] = _short_wait(case.query["wait"])
    if case.method.upper() == "POST" and _IDEMPOTENT.match(case.path):
        return {"Idempotency-Key": f"fuzz-{uuid.uuid4().hex}"}
    return {}


@pytest.fixture(scope="module", name="fuzz_app")
def fx_fuzz_app(settings: Settings) -> Iterator[Litestar]:
    """The app built as a worker builds it, on the suite's database. Its own instance: schemathesis runs the
    lifespan (pool, Redis client) on an event loop thread of its own, apart from the suite's test client."""
    app = _APP.app = create_app(settings)
    client = asgi.get_client(_APP)
    client.__enter__()  # starts the lifespan once; every request of the module then reuses it
    served = client.get("/schema/openapi.json")
    assert served.status_code == 200 and served.json() == json.loads(json.dumps(_DOCUMENT)), \
        "the app serves another document than the one fuzzed"
    _APP.tokens = Tokens(client, settings)
    yield app
    _APP.tokens = _APP.app = None
    asgi.shutdown_lifespans()


SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES, deadline=None, derandomize=DERANDOMIZE, database=None, print_blob=False,
    suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
)


@schema.parametrize()
@SETTINGS
def test_operations(case: Any, fuzz_app: Litestar) -> None:
    response = case.call_and_validate(headers=_prepare(case))
    SEEN[case.operation.label][response.status_code] += 1


def test_stateful(fuzz_app: Litestar) -> None:
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": _prepare(case)}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            SEEN[f"stateful {case.operation.label}"][response.status_code] += 1

        def step(self, input: Any) -> Any:  # noqa: A002
            try:
                return super().step(input)
            except Exception as exc:
                failures.append(f"{input.case.operation.label}: {type(exc).__name__}: {exc}")
                raise

    failures: list[str] = []
    try:
        Workflow.run(settings=hypothesis.settings(
            max_examples=STATEFUL_RUNS, stateful_step_count=STATEFUL_STEPS, deadline=None,
            derandomize=DERANDOMIZE, database=None, print_blob=False, suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
        ))
    except hypothesis.errors.Flaky:
        # The scenarios depend on the server's answers, which move on as it fills up: a replay can draw other
        # steps and Hypothesis calls that flaky. Like schemathesis' own runner, that ends the phase; it fails
        # only when a step failed.
        if failures:
            pytest.fail("a stateful step failed (its replay diverged):\n" + failures[0])


def test_run_reached_the_handlers() -> None:
    """The run meant something: tokens were accepted (2xx behind auth), and the stateful phase made calls."""
    import sys

    if not any(label.startswith("stateful ") for label in SEEN) or "GET /api/v1/auth/me" not in SEEN:
        pytest.skip("needs the whole module's run")
    for label in sorted(SEEN):
        print(f"{label}: {dict(sorted(SEEN[label].items()))}", file=sys.stderr)
    ok = {label for label, statuses in SEEN.items() if any(200 <= s < 300 for s in statuses)}
    for label in ("GET /api/v1/auth/me", "GET /api/v1/me/complaints", "GET /api/v1/staff/complaints",
                  "GET /api/v1/admin/users", "POST /api/v1/auth/logout"):
        assert label in ok, f"{label} never answered 2xx: {dict(SEEN[label])}"
    assert sum(sum(c.values()) for label, c in SEEN.items() if label.startswith("stateful ")) >= 30
