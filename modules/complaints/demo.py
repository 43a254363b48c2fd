"""Demo data for complaints: categories, reply templates, and a few dozen items per district in varied states."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from auth.audit import Actor
from modules.complaints import service
from modules.complaints.schemas import Location
from modules.kernel import steps

if TYPE_CHECKING:
    import asyncpg

    from auth.secretbox import SecretBox

__all__ = ("CATEGORIES", "load")

CATEGORIES: list[dict[str, Any]] = [
    {"code": "duty-crime", "kind": "report", "name": "司法工作人员职务犯罪线索",
     "fields": [{"key": "unit", "label": "被举报人所在单位", "type": "string", "required": True, "order": 1},
                {"key": "amount", "label": "涉及金额（元）", "type": "number", "order": 2}]},
    {"code": "public-interest", "kind": "report", "name": "公益损害线索",
     "fields": [{"key": "domain", "label": "领域", "type": "single_choice", "required": True, "order": 1,
                 "options": ["生态环境", "食品药品", "国有财产", "国有土地", "英烈保护", "其他"]},
                {"key": "found_on", "label": "发现日期", "type": "date", "order": 2}]},
    {"code": "accusation", "kind": "accusation", "name": "控告", "fields": []},
    {"code": "criminal-appeal", "kind": "criminal_appeal", "name": "不服刑事处理决定申诉",
     "fields": [{"key": "case_no", "label": "原案号", "type": "string", "required": True, "order": 1}]},
    {"code": "civil-appeal", "kind": "civil_admin_appeal", "name": "民事行政申诉", "fields": []},
    {"code": "compensation", "kind": "state_compensation", "name": "国家赔偿", "fields": []},
    {"code": "aid", "kind": "judicial_aid", "name": "国家司法救助", "fields": []},
    {"code": "petition", "kind": "other_petition", "name": "其他信访事项", "fields": []},
    {"code": "consultation", "kind": "legal_consultation", "name": "法律咨询", "fields": []},
]
TEMPLATES = [
    ("accepted", "accepted", "受理告知",
     "您反映的事项（受理编号 {receipt_no}）已由{office}依法受理，我们将在三个月内答复办理结果。"),
    ("material", "awaiting_material", "补充材料告知",
     "您反映的事项（受理编号 {receipt_no}）材料不全：{reason}。请补充后我们继续办理。"),
    ("referred", "referred", "转送告知",
     "您反映的事项（受理编号 {receipt_no}）不属于本院管辖，已转送{referred_to}处理。"),
    ("closed", "closed", "办理结果答复", "您反映的事项（受理编号 {receipt_no}）已办结：{disposition}"),
]
_TITLES = ["某河道企业偷排污水", "看守所民警违规收受财物", "不服不起诉决定申诉", "小区绿地被侵占", "拖欠工程款引发纠纷",
           "食品作坊无证生产", "请求国家司法救助", "对原审判决不服", "农用地被非法占用", "咨询取保候审程序"]


async def load(conn: asyncpg.Connection, box: SecretBox, offices: list[str], per_office: int = 30) -> None:
    """Switch the module on and fill each office; refreshed categories, items only the first time."""
    rng = random.Random(2026)
    for code in offices:
        office = await conn.fetchrow("select id, code, name from offices where code = $1", code)
        await conn.execute(
            """
            insert into office_modules (office_id, module, enabled, config)
            values ($1, 'complaints', true, $2)
            on conflict (office_id, module) do update set enabled = true
            """,
            office["id"], {"assignment": {"eligibleRoles": ["prosecutor", "assistant"]}})
        for cat in CATEGORIES:
            await conn.execute(
                """
                insert into complaint_categories (office_id, kind, code, name, fields)
                values ($1, $2, $3, $4, $5) on conflict (office_id, code) do nothing
                """,
                office["id"], cat["kind"], cat["code"], cat["name"], cat["fields"])
        for tcode, state, title, body in TEMPLATES:
            await conn.execute(
                "insert into complaint_reply_templates (office_id, code, state, title, body)"
                " values ($1, $2, $3, $4, $5)"
                " on conflict (office_id, code) do nothing", office["id"], tcode, state, title, body)
        if await conn.fetchval("select exists (select 1 from complaints where office_id = $1)", office["id"]):
            continue
        await _items(conn, box, office, per_office, rng)


async def _items(conn: asyncpg.Connection, box: SecretBox, office: Any, count: int, rng: random.Random) -> None:
    staff = await conn.fetchrow("select id from users where username = $1", f"{office['code']}.complaints_office")
    prosecutor = await conn.fetchval("select id from users where username = $1", f"{office['code']}.prosecutor")
    actor = Actor(id=str(staff["id"]), kind="staff", office_id=office["id"], device_id="demo", ip=None,
                  request_id="demo-load")
    categories = {r["code"]: r for r in await conn.fetch(
        "select * from complaint_categories where office_id = $1", office["id"])}
    now = datetime.now(UTC)
    for i in range(count):
        cat = categories[CATEGORIES[i % len(CATEGORIES)]["code"]]
        fields: dict[str, Any] = {}
        if cat["code"] == "duty-crime":
            fields = {"unit": "某区看守所"}
        elif cat["code"] == "public-interest":
            fields = {"domain": "生态环境"}
        elif cat["code"] == "criminal-appeal":
            fields = {"case_no": f"（2025）沪{rng.randint(100, 999)}刑初{rng.randint(1, 999)}号"}
        anonymous = i % 7 == 0
        reporter = service.Reporter(name=None if anonymous else f"市民{i:02d}",
                                    phone=None if anonymous else f"139{rng.randint(10**7, 10**8 - 1)}",
                                    id_number=None, anonymous=anonymous)
        received = now - timedelta(days=rng.choice([1, 2, 3, 6, 9, 15, 40, 80, 100, 120]), hours=rng.randint(0, 20))
        row, _ = await service.create(
            conn, box, actor, office=office, category=cat, title=_TITLES[i % len(_TITLES)],
            body=f"{_TITLES[i % len(_TITLES)]}，具体情况如下：……（演示数据 {i}）",
            location=Location(latitude=30.72 + rng.random() / 10, longitude=121.30 + rng.random() / 10,
                              address="上海市金山区" if office["code"] == "jinshan" else "上海市崇明区"),
            persons=[], fields=fields, channel=rng.choice(["app", "web", "hotline", "walk_in", "letter"]),
            reporter=reporter, complainant_id=None, created_by=staff["id"], received_at=received)
        fate = i % 6
        if fate == 0:
            continue  # still waiting for triage
        if fate == 1:
            await steps.apply(conn, service.SUBJECT, actor, row, "request_material", {"reason": "缺少身份证明"},
                              body="请补充身份证明材料。")
            continue
        if fate == 2:
            await steps.apply(conn, service.SUBJECT, actor, row, "refer", {"referredTo": "区市场监督管理局"},
                              body="已转送区市场监督管理局处理。")
            continue
        row = await steps.apply(conn, service.SUBJECT, actor, row, "accept", {}, body="您反映的事项已依法受理。")
        if fate == 3:
            continue
        row = await steps.apply(conn, service.SUBJECT, actor, row, "assign", {"assigneeId": prosecutor})
        if fate == 5:
            await steps.apply(conn, service.SUBJECT, actor, row, "close", {"disposition": "经审查，已依法处理。"},
                              body="已办结。")
