"""The senders' own HTTP clients against real sockets: the peer's stream limit, timeouts, GOAWAY and lost
connections (answered with a retry, then a new connection), HTTP/1.1 answers however they are framed, and TLS with
ALPN."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from push.fakes.server import FakeServer, read_body, respond
from push.senders.apns import ApnsConfig, ApnsSender
from push.senders.base import Message
from push.senders.h1client import H1Client
from push.senders.h2client import H2Client


class Slow:
    """An endpoint that answers 200 after `delay` seconds and counts the requests it holds at once."""

    def __init__(self, delay: float) -> None:
        self.delay, self.holding, self.peak, self.seen = delay, 0, 0, 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await read_body(receive)
        self.seen += 1
        self.holding += 1
        self.peak = max(self.peak, self.holding)
        try:
            await asyncio.sleep(self.delay)
            await respond(send, 200, {"ok": True})
        finally:
            self.holding -= 1


def _apns(providers: dict[str, Any], url: str, timeout: float = 10.0) -> ApnsSender:
    mine = providers["senders"]["apns"].config
    return ApnsSender(ApnsConfig(key_pem=mine.key_pem, key_id=mine.key_id, team_id=mine.team_id, topic=mine.topic,
                                 base_url=url), timeout=timeout)


async def test_never_more_streams_than_the_provider_allows() -> None:
    app = Slow(0.02)
    server = await FakeServer(app, max_streams=3).start()
    client = H2Client(server.url, max_connections=1)
    try:
        answers = await asyncio.gather(*(client.post("/x", content=b"{}") for _ in range(30)))
    finally:
        await client.aclose()
        await server.stop()
    assert [a.status_code for a in answers] == [200] * 30 and app.seen == 30
    assert app.peak == 3


async def test_a_provider_that_does_not_answer_in_time_is_tried_again_and_the_connection_goes_on(providers) -> None:
    fake = providers["apns"]
    sender = _apns(providers, providers["senders"]["apns"]._client.base_url, timeout=0.3)
    try:
        fake.delay = 1.0
        slow = await sender.send("slow-device", Message(id="0b7c1f4e-0000-4000-8000-0000000000a1", kind="k"))
        fake.delay = 0.0
        fast = await sender.send("fast-device", Message(id="0b7c1f4e-0000-4000-8000-0000000000a2", kind="k"))
    finally:
        fake.delay = 0.0
        connections = len(sender._client._connections)
        await sender.aclose()
    assert slow.result == "retry" and slow.status is None and slow.error == "ReadTimeout"
    # The stream that timed out was reset; its connection carries on.
    assert fast.result == "sent" and connections == 1


async def test_goaway_and_a_lost_connection_fail_the_open_requests_for_a_retry_then_a_new_connection(
        providers) -> None:
    apns = providers["apns"]
    server = await FakeServer(apns).start()
    sender = _apns(providers, server.url)
    try:
        assert (await sender.send("dev-1", Message(id="0b7c1f4e-0000-4000-8000-0000000000b1", kind="k"))).result \
            == "sent"
        apns.delay = 2.0
        going = [asyncio.ensure_future(sender.send(f"dev-{i}", Message(id=f"0b7c1f4e-0000-4000-8000-0000000000c{i}",
                                                                        kind="k"))) for i in range(5)]
        await asyncio.sleep(0.2)
        port = server.port
        await server.stop()  # GOAWAY, then the connection closes with the five streams open
        cut = await asyncio.gather(*going)
        apns.delay = 0.0
        # The provider is away: a retry too.
        away = await sender.send("dev-2", Message(id="0b7c1f4e-0000-4000-8000-0000000000d1", kind="k"))
        server = await FakeServer(apns, port).start()
        back = await sender.send("dev-3", Message(id="0b7c1f4e-0000-4000-8000-0000000000d2", kind="k"))
    finally:
        apns.delay = 0.0
        await sender.aclose()
        await server.stop()
    assert [o.result for o in cut] == ["retry"] * 5 and all(o.status is None for o in cut)
    assert away.result == "retry" and away.error == "ConnectError"
    assert back.result == "sent"


async def _raw_server(answers: list[bytes]) -> tuple[asyncio.Server, str, list[bytes]]:
    """A bare HTTP/1.1 server: reads a request head and body, writes the next raw answer as it is."""
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            size = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                             if line.lower().startswith(b"content-length:")), b"0"))
            received.append(head + await reader.readexactly(size))
            answer = answers.pop(0)
            writer.write(answer)
            await writer.drain()
            if b"connection: close" in answer.lower() or b"content-length" not in answer.lower() \
                    and b"chunked" not in answer.lower():
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/send", received


async def test_http1_answers_by_length_chunks_or_the_connection_end_and_reuse_only_what_may_be_reused() -> None:
    server, url, received = await _raw_server([
        b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"code\":0}\n",
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\nRetry-After: 7\r\n\r\n"
         b"5\r\n{\"cod\r\n6;x=y\r\ne\":1}\n\r\n0\r\n\r\n"),
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        b"HTTP/1.0 200 OK\r\n\r\n{\"till\":\"end\"}",
    ])
    client = H1Client(max_connections=1)
    try:
        first = await client.post(url, content=b"a", headers={"content-type": "application/json"})
        second = await client.post(url, content=b"bb")
        third = await client.post(url, content=b"ccc")
        fourth = await client.post(url, content=b"dddd")
        with pytest.raises(httpx.LocalProtocolError):
            await client.post(url, headers={"authorization": "Bearer x\r\nInjected: 1"})
    finally:
        await client.aclose()
        server.close()
    assert first.status_code == 200 and first.json() == {"code": 0}
    assert second.status_code == 503 and second.json() == {"code": 1} and second.headers["retry-after"] == "7"
    assert third.json() == {} and fourth.json() == {"till": "end"}
    assert [r.split(b"\r\n\r\n", 1)[1] for r in received] == [b"a", b"bb", b"ccc", b"dddd"]
    assert b"content-type: application/json" in received[0]


async def test_http1_a_peer_that_closes_mid_answer_or_times_out_raises_transport_errors() -> None:
    server, url, _ = await _raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{\"a\""])
    client = H1Client(timeout=0.3)
    try:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(url, content=b"x")
        with pytest.raises(httpx.ConnectError):
            await client.post("http://127.0.0.1:1/send", content=b"x")
    finally:
        await client.aclose()
        server.close()
    silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    client = H1Client(timeout=0.3)
    try:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(f"http://127.0.0.1:{silent.sockets[0].getsockname()[1]}/", content=b"x")
    finally:
        await client.aclose()
        silent.close()


def _tls(tmp_path: Any, alpn: list[str]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: the server's context (offering `alpn`) and a client's trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    server.set_alpn_protocols(alpn)
    return server, ssl.create_default_context(cafile=str(cert_file))


async def test_over_tls_apns_needs_alpn_h2_and_the_others_speak_http1(providers, tmp_path) -> None:
    h2_server, h2_client = _tls(tmp_path, ["h2", "http/1.1"])
    apns = await FakeServer(providers["apns"], tls=h2_server).start()
    h1_only, h1_client = _tls(tmp_path, ["http/1.1"])
    plain = await FakeServer(Slow(0.0), tls=h1_only).start()
    sender = _apns(providers, apns.url)
    sender._client = H2Client(apns.url, ssl_context=h2_client)
    # (A context of its own: each client sets the ALPN protocols it asks for on the context it is given.)
    refused = H2Client(plain.url, ssl_context=ssl.create_default_context(cafile=str(tmp_path / "cert.pem")))
    h1 = H1Client(ssl_context=h1_client)
    try:
        sent = await sender.send("tls-device", Message(id="0b7c1f4e-0000-4000-8000-0000000000e1", kind="k"))
        answer = await h1.post(f"{plain.url}/send", json={"a": 1})
        with pytest.raises(httpx.ConnectError):
            await refused.post("/x", content=b"{}")
    finally:
        await sender.aclose()
        await refused.aclose()
        await h1.aclose()
        await apns.stop()
        await plain.stop()
    assert sent.result == "sent" and answer.json() == {"ok": True}
    assert [r.http_version for r in providers["apns"].requests if r.path.endswith("/tls-device")] == ["2"]
