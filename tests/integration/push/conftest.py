"""Fixtures for delivery: the local APNs, Huawei, Honor, Xiaomi, OPPO, vivo, FCM and Web Push fakes, a partner's
endpoint, a delivery worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.db import WORKER_ROLE, Database, create_pool
from api.settings import master_secret
from auth.secretbox import SecretBox
from push.fakes.apns import FakeApns
from push.fakes.fcm import FakeFcm
from push.fakes.honor import FakeHonor
from push.fakes.huawei import FakeHuawei
from push.fakes.oppo import FakeOppo
from push.fakes.server import FakeServer, Recorded, receive_request, respond
from push.fakes.vivo import FakeVivo
from push.fakes.webpush import FakeWebPush
from push.fakes.xiaomi import FakeXiaomi
from push.process import dev_key_pair
from push.senders.apns import ApnsConfig, ApnsSender
from push.senders.fcm import FcmConfig, FcmSender
from push.senders.honor import HonorConfig, HonorSender
from push.senders.huawei import HuaweiConfig, HuaweiSender
from push.senders.oppo import OppoConfig, OppoSender
from push.senders.vivo import VivoConfig, VivoSender
from push.senders.webhook import WebhookSender
from push.senders.webpush import VapidKey, WebPushSender
from push.senders.xiaomi import XiaomiConfig, XiaomiSender
from push.worker import Worker, WorkerConfig


class Endpoint:
    """A partner agency's webhook endpoint: records what it receives, answers `status` (or a scripted list)."""

    def __init__(self) -> None:
        self.received: list[Recorded] = []
        self.answers: list[int] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.received.append(await receive_request(scope, receive))
        await respond(send, self.answers.pop(0) if self.answers else 204)


@pytest.fixture(scope="session", name="providers")
async def fx_providers() -> AsyncIterator[dict[str, Any]]:
    """The APNs (HTTP/2) and Huawei fakes, a partner endpoint, and senders pointed at the fakes."""
    private, public = dev_key_pair()
    apns = FakeApns(public, team_id="TEAM123456", key_id="KEY1234567", topic="cn.jianwu.app")
    huawei = FakeHuawei(app_id="10086", client_secret="hw-secret")
    endpoint = Endpoint()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fcm = FakeFcm(project_id="jianwu-test", client_email="push@jianwu-test.iam.example",
                  public_key_pem=rsa_key.public_key().public_bytes(
                      serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    servers = [await FakeServer(apns).start(), await FakeServer(huawei).start(), await FakeServer(endpoint).start(),
               await FakeServer(fcm).start()]
    webpush = FakeWebPush()
    servers.append(await FakeServer(webpush).start())
    webpush.url = servers[4].url
    honor = FakeHonor(app_id="104400123", client_id="honor-client", client_secret="honor-secret")
    xiaomi = FakeXiaomi(app_secret="mi-secret", package="cn.jianwu.app")
    oppo = FakeOppo(app_key="oppo-key", master_secret="oppo-master")
    vivo = FakeVivo(app_id="10004", app_key="vivo-key", app_secret="vivo-secret")
    vendor_servers = {name: await FakeServer(fake).start()
                      for name, fake in (("honor", honor), ("xiaomi", xiaomi), ("oppo", oppo), ("vivo", vivo))}
    servers.extend(vendor_servers.values())
    senders = {
        "apns": ApnsSender(ApnsConfig(key_pem=private, key_id="KEY1234567", team_id="TEAM123456",
                                      topic="cn.jianwu.app", base_url=servers[0].url)),
        "huawei": HuaweiSender(HuaweiConfig(app_id="10086", client_secret="hw-secret",
                                            token_url=f"{servers[1].url}/oauth2/v3/token", push_url=servers[1].url)),
        "fcm": FcmSender(FcmConfig.from_service_account({
            "project_id": "jianwu-test", "client_email": "push@jianwu-test.iam.example",
            "token_uri": f"{servers[3].url}/token",
            "private_key": rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()).decode()}, base_url=servers[3].url)),
        "webpush": WebPushSender(VapidKey(dev_key_pair()[0]), ["127.0.0.1"]),
        "honor": HonorSender(HonorConfig(app_id="104400123", client_id="honor-client", client_secret="honor-secret",
                                         token_url=f"{vendor_servers['honor'].url}/auth/token",
                                         push_url=vendor_servers["honor"].url)),
        "xiaomi": XiaomiSender(XiaomiConfig(app_secret="mi-secret", package="cn.jianwu.app",
                                            base_url=vendor_servers["xiaomi"].url)),
        "oppo": OppoSender(OppoConfig(app_key="oppo-key", master_secret="oppo-master",
                                      base_url=vendor_servers["oppo"].url)),
        "vivo": VivoSender(VivoConfig(app_id="10004", app_key="vivo-key", app_secret="vivo-secret",
                                      base_url=vendor_servers["vivo"].url)),
    }
    yield {"apns": apns, "huawei": huawei, "fcm": fcm, "webpush": webpush, "endpoint": endpoint,
           "honor": honor, "xiaomi": xiaomi, "oppo": oppo, "vivo": vivo,
           "endpoint_url": servers[2].url, "senders": senders}
    for s in senders.values():
        await s.aclose()
    for server in servers:
        await server.stop()


@pytest.fixture(scope="session", name="worker")
async def fx_worker(settings, providers) -> AsyncIterator[Worker]:
    """A delivery worker on its own pool, as its own role, with short retry delays so a test sees the retry."""
    pool = await create_pool(settings, settings.database_url, role=WORKER_ROLE)
    webhooks = WebhookSender()
    worker = Worker(Database(pool, 5.0), SecretBox(master_secret(settings)), providers["senders"], webhooks,
                    WorkerConfig(base_delay=0.05, max_delay=0.2, max_attempts=4, lease_seconds=30))
    yield worker
    await webhooks.aclose()
    await pool.close()


async def drain(worker: Worker, rounds: int = 100) -> None:
    """Run the worker until nothing is left to do (retries due within two seconds included)."""
    for _ in range(rounds):
        busy = await worker.fan_out() + await worker.send_round()
        if not busy:
            soon = await worker.db.fetchval(
                "select exists (select 1 from outbox where delivered_at is null and available_at < now()"
                " + interval '2 seconds') or exists (select 1 from deliveries"
                " where state = 'pending' and next_at < now() + interval '2 seconds')")
            if not soon:
                return
            await asyncio.sleep(0.1)
