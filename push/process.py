"""`jianwu worker`: one delivery worker process. Its senders come from the settings (credentials validated at
start, never logged); in development (`JIANWU_PUSH_FAKES=1`, set by `jianwu serve`) it starts the local provider
fakes and sends to them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.db import WORKER_ROLE, Database, create_pool
from api.settings import master_secret
from auth.secretbox import SecretBox
from modules.registry import manifests
from push.fakes.apns import FakeApns
from push.fakes.honor import FakeHonor
from push.fakes.huawei import FakeHuawei
from push.fakes.oppo import FakeOppo
from push.fakes.server import FakeServer
from push.fakes.vivo import FakeVivo
from push.fakes.xiaomi import FakeXiaomi
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

if TYPE_CHECKING:
    from api.settings import Settings
    from push.senders.base import Sender

__all__ = ("dev_key_pair", "fake_providers", "run_worker", "senders_from_settings")

log = logging.getLogger("jianwu.push")


def dev_key_pair() -> tuple[str, str]:
    """A throwaway P-256 key pair (private PEM, public PEM), as an APNs .p8 key is."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def senders_from_settings(settings: Settings) -> dict[str, Sender]:
    """A sender per channel whose credentials are configured."""
    out: dict[str, Sender] = {}
    if settings.apns_key_file is not None:
        out["apns"] = ApnsSender(ApnsConfig(
            key_pem=settings.apns_key_file.read_text(), key_id=settings.apns_key_id or "",
            team_id=settings.apns_team_id or "", topic=settings.apns_topic or "", base_url=settings.apns_url))
    if settings.huawei_app_id and settings.huawei_client_secret:
        out["huawei"] = HuaweiSender(HuaweiConfig(
            app_id=settings.huawei_app_id, client_secret=settings.huawei_client_secret,
            token_url=settings.huawei_token_url, push_url=settings.huawei_push_url))
    if settings.honor_app_id and settings.honor_client_id and settings.honor_client_secret:
        out["honor"] = HonorSender(HonorConfig(
            app_id=settings.honor_app_id, client_id=settings.honor_client_id,
            client_secret=settings.honor_client_secret, token_url=settings.honor_token_url,
            push_url=settings.honor_push_url))
    if settings.xiaomi_app_secret and settings.xiaomi_package:
        out["xiaomi"] = XiaomiSender(XiaomiConfig(app_secret=settings.xiaomi_app_secret,
                                                  package=settings.xiaomi_package, base_url=settings.xiaomi_url))
    if settings.oppo_app_key and settings.oppo_master_secret:
        out["oppo"] = OppoSender(OppoConfig(app_key=settings.oppo_app_key, master_secret=settings.oppo_master_secret,
                                            base_url=settings.oppo_url))
    if settings.vivo_app_id and settings.vivo_app_key and settings.vivo_app_secret:
        out["vivo"] = VivoSender(VivoConfig(app_id=settings.vivo_app_id, app_key=settings.vivo_app_key,
                                            app_secret=settings.vivo_app_secret, base_url=settings.vivo_url))
    if settings.vapid_key_file is not None:
        out["webpush"] = WebPushSender(VapidKey(settings.vapid_key_file.read_text(), settings.vapid_subject),
                                       list(settings.webpush_hosts))
    if settings.fcm_credentials_file is not None:
        try:
            account = json.loads(settings.fcm_credentials_file.read_text())
            out["fcm"] = FcmSender(FcmConfig.from_service_account(account, base_url=settings.fcm_url))
        except (ValueError, KeyError) as exc:
            raise SystemExit(f"jianwu: JIANWU_FCM_CREDENTIALS_FILE is not a service account key ({exc!r})") from None
    return out


@contextlib.asynccontextmanager
async def fake_providers() -> AsyncIterator[dict[str, Sender]]:
    """Start the local APNs, Huawei, Honor, Xiaomi, OPPO and vivo fakes; yield senders pointed at them."""
    private, public = dev_key_pair()
    apns = await FakeServer(FakeApns(public, team_id="DEVTEAM123", key_id="DEVKEY1234", topic="cn.jianwu.app")).start()
    huawei = await FakeServer(FakeHuawei(app_id="100000001", client_secret="dev-secret")).start()
    honor = await FakeServer(FakeHonor(app_id="104400001", client_id="dev-honor", client_secret="dev-secret")).start()
    xiaomi = await FakeServer(FakeXiaomi(app_secret="dev-secret", package="cn.jianwu.app")).start()
    oppo = await FakeServer(FakeOppo(app_key="dev-oppo-key", master_secret="dev-secret")).start()
    vivo = await FakeServer(FakeVivo(app_id="10004", app_key="dev-vivo-key", app_secret="dev-secret")).start()
    servers = [apns, huawei, honor, xiaomi, oppo, vivo]
    senders: dict[str, Sender] = {
        "apns": ApnsSender(ApnsConfig(key_pem=private, key_id="DEVKEY1234", team_id="DEVTEAM123",
                                      topic="cn.jianwu.app", base_url=apns.url)),
        "huawei": HuaweiSender(HuaweiConfig(app_id="100000001", client_secret="dev-secret",
                                            token_url=f"{huawei.url}/oauth2/v3/token", push_url=huawei.url)),
        "honor": HonorSender(HonorConfig(app_id="104400001", client_id="dev-honor", client_secret="dev-secret",
                                         token_url=f"{honor.url}/auth/token", push_url=honor.url)),
        "xiaomi": XiaomiSender(XiaomiConfig(app_secret="dev-secret", package="cn.jianwu.app", base_url=xiaomi.url)),
        "oppo": OppoSender(OppoConfig(app_key="dev-oppo-key", master_secret="dev-secret", base_url=oppo.url)),
        "vivo": VivoSender(VivoConfig(app_id="10004", app_key="dev-vivo-key", app_secret="dev-secret",
                                      base_url=vivo.url)),
    }
    log.warning("delivery worker: sending to local fakes (APNs %s, Huawei %s, Honor %s, Xiaomi %s, OPPO %s, vivo %s)",
                *(server.url for server in servers))
    try:
        yield senders
    finally:
        for s in senders.values():
            await s.aclose()
        for server in servers:
            await server.stop()


async def run_worker(settings: Settings) -> None:
    """Run one worker until SIGTERM or SIGINT."""
    if not settings.database_url:
        raise SystemExit("jianwu: DATABASE_URL must be set (`jianwu serve` sets it for you)")
    manifests()  # every module's topics and recipients
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pool = await create_pool(settings, settings.database_url, role=WORKER_ROLE)
    db = Database(pool, settings.db_acquire_timeout)
    box = SecretBox(master_secret(settings))
    webhooks = WebhookSender()
    config = WorkerConfig(max_attempts=settings.push_max_attempts)
    try:
        if settings.push_fakes and settings.env != "production":
            async with fake_providers() as senders:
                await Worker(db, box, senders, webhooks, config).run(stop)
        else:
            senders = senders_from_settings(settings)
            log.warning("delivery worker: channels configured: %s", ", ".join(sorted(senders)) or "none")
            await Worker(db, box, senders, webhooks, config).run(stop)
    finally:
        await webhooks.aclose()
        await pool.close()
