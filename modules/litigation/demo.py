"""Demo data for public-interest litigation: the module switched on, and per district clues and cases in every
state (a registered, an evaluated, a declined and a referred clue; cases investigating, with a recommendation
issued, served, answered, followed up, suspended, in court, closed, archived, and a civil case under notice)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auth.audit import Actor
from modules.kernel import steps
from modules.litigation import service

if TYPE_CHECKING:
    import asyncpg

    from auth.secretbox import SecretBox

__all__ = ("load",)

_CLUES = [
    ("ecology_environment", "河道企业偷排污水", "巡查发现排污口持续排放黑臭污水，沿岸鱼类死亡。", "张堰镇某河段"),
    ("food_drug_safety", "校园周边无证食品摊贩", "多所学校周边存在无证经营的食品摊贩，卫生条件差。", "石化街道学府路"),
    ("state_property", "农业补贴资金被冒领", "有村民反映合作社虚报种植面积冒领补贴。", "廊下镇某合作社"),
    ("state_land", "国有土地出让金欠缴", "某地块出让后长期未缴清出让金。", "金山工业区某地块"),
    ("heroes_martyrs", "烈士纪念设施年久失修", "烈士墓地围墙倒塌，无人管护。", "某烈士陵园"),
    ("minors", "网吧违规接纳未成年人", "多名未成年人深夜在网吧上网。", "朱泾镇某网吧"),
    ("safe_production", "燃气管道占压隐患", "违章建筑占压燃气管道。", "枫泾镇某小区"),
    ("ecology_environment", "林地被非法占用", "林地被平整后堆放建筑垃圾。", "亭林镇某林地"),
    ("personal_information", "小区门禁违规采集人脸", "物业强制业主录入人脸信息。", "山阳镇某小区"),
    ("ecology_environment", "养殖尾水直排河道", "养殖场尾水未经处理直排入河。", "吕巷镇某养殖场"),
    ("cultural_heritage", "文物保护建筑被擅自改建", "区级文物保护点被改作商铺。", "枫泾古镇某老宅"),
    ("food_drug_safety", "网络平台销售过期食品", "外卖平台商户销售过期食品。", "金山卫镇某商户"),
    ("safe_production", "危化品仓库违规储存", "仓库超量储存危险化学品。", "漕泾镇某仓库"),
]


def _actor(user_id: Any, office_id: Any) -> Actor:
    return Actor(id=str(user_id), kind="staff", office_id=office_id, device_id="demo", ip=None,
                 request_id="demo-load")


async def load(conn: asyncpg.Connection, box: SecretBox, offices: list[str]) -> None:
    """Switch the module on for each office and fill it the first time."""
    for code in offices:
        office = await conn.fetchrow("select id, code from offices where code = $1", code)
        await conn.execute(
            "insert into office_modules (office_id, module, enabled, config) values ($1, 'litigation', true, '{}') "
            "on conflict (office_id, module) do update set enabled = true", office["id"])
        if await conn.fetchval("select exists (select 1 from pil_clues where office_id = $1)", office["id"]):
            continue
        users = dict(await conn.fetch("select username, id from users where username like $1", f"{code}.%"))
        await _fill(conn, box, office, _actor(users[f"{code}.prosecutor"], office["id"]))
        await _hearing(conn, box, users[f"{code}.deputy"], users[f"{code}.member"],
                       _actor(users[f"{code}.prosecutor"], office["id"]))


async def _fill(conn: asyncpg.Connection, box: SecretBox, office: Any, actor: Actor) -> None:
    agency = f"{office['code']}-ecoenv"
    district = "金山区" if office["code"] == "jinshan" else "崇明区"
    clues = []
    for i, (domain, title, text, place) in enumerate(_CLUES):
        clues.append(await service.create_clue(
            conn, box, actor, office_id=office["id"], source="field" if i % 3 else "hotline", domain=domain,
            title=title, description=text, address=f"上海市{district}{place}", latitude=30.74 + i / 100,
            longitude=121.34 + i / 100, public_interest="国家利益和社会公共利益受到侵害", responsible_party=None))
    # clues[0]: registered; [1]: evaluating; [2] declined; [3] referred; [4..8] became cases.
    for clue in clues[1:]:
        await steps.apply(conn, service.CLUE, actor, clue, "evaluate", {})
    fresh = {c["id"]: await conn.fetchrow("select * from pil_clues where id = $1", c["id"]) for c in clues}
    await steps.apply(conn, service.CLUE, actor, fresh[clues[2]["id"]], "decline", {"reason": "公益损害已消除"})
    await steps.apply(conn, service.CLUE, actor, fresh[clues[3]["id"]], "refer",
                      {"referredTo": "上海市人民检察院", "reason": "重大线索报上一级院"})
    cases = []
    for i, clue in enumerate(clues[4:]):
        route = "civil" if i == 4 else "administrative"
        fields = {"route": route, "reason": "经评估符合立案条件", "agency": agency, "respondent": "某公司"}
        row = await steps.apply(conn, service.CLUE, actor, fresh[clue["id"]], "open_case", fields)
        await service.carried_out(conn, actor, service.CLUE, row, "open_case", fields)
        cases.append(await conn.fetchrow("select * from pil_cases where clue_id = $1", clue["id"]))
    # cases[0]: investigating; [1] recommendation issued; [2] served; [3] answered and closed; [4] civil, announced;
    # [5] followed up after the reply; [6] suspended; [7] sued, court notice received; [8] closed and archived.
    partner = Actor(id=agency, kind="partner", office_id=office["id"], device_id=None, ip=None, request_id="demo-load")
    for case in (*cases[1:4], cases[5], cases[7], cases[8]):
        fields = {"content": "建议依法履行监督管理职责，督促整改。"}
        row = await steps.apply(conn, service.CASE, actor, case, "issue_recommendation", fields)
        await service.carried_out(conn, actor, service.CASE, row, "issue_recommendation", fields)
    for case in (*cases[2:4], cases[5], cases[7], cases[8]):
        row = await conn.fetchrow("select * from pil_cases where id = $1", case["id"])
        rec = await conn.fetchrow("select * from pil_recommendations where case_id = $1", case["id"])
        await service.receive(conn, partner, row, rec)
    for case in (cases[3], cases[5], cases[8]):
        row = await conn.fetchrow("select * from pil_cases where id = $1", case["id"])
        rec = await conn.fetchrow("select * from pil_recommendations where case_id = $1", case["id"])
        await service.reply(conn, partner, row, rec, text="已完成整改，排污口已封堵。", rectified=True)
    await _later_steps(conn, actor, cases[3], ("close", {"disposition": "行政机关已整改到位"}))
    await _later_steps(conn, actor, cases[5], ("follow_up", {"content": "回访现场，整改基本到位"}))
    await _later_steps(conn, actor, cases[6], ("suspend", {"reason": "被告企业进入破产清算"}))
    await _later_steps(conn, actor, cases[7], ("sue", {"reason": "行政机关未依法全面履职"}),
                       ("receive_court_notice", {"content": "出庭通知书"}))
    await _later_steps(conn, actor, cases[8], ("close", {"disposition": "行政机关已整改到位"}),
                       ("archive", {"content": "已归档"}))
    fields = {"content": "公告：本院拟对侵害社会公共利益的行为提起民事公益诉讼，法律规定的机关和有关组织可以提起诉讼。"}
    row = await steps.apply(conn, service.CASE, actor, cases[4], "announce", fields)
    await service.carried_out(conn, actor, service.CASE, row, "announce", fields)


async def _later_steps(conn: asyncpg.Connection, actor: Actor, case: Any, *moves: tuple[str, dict[str, Any]]) -> None:
    """Carry a demo case on through these steps (approvals taken as given), with what follows each."""
    for step, fields in moves:
        row = await conn.fetchrow("select * from pil_cases where id = $1", case["id"])
        row = await steps.apply(conn, service.CASE, actor, row, step, fields)
        await service.carried_out(conn, actor, service.CASE, row, step, fields)


async def _hearing(conn: asyncpg.Connection, box: SecretBox, deputy: Any, member: Any, actor: Actor) -> None:
    """A hearing next week on the office's first case, the deputy and the member invited (the deputy app's inbox)."""
    from datetime import UTC, datetime, timedelta

    from modules.litigation import hearings
    from modules.litigation.schemas import HearingIn, InviteeIn

    case = await conn.fetchrow("select * from pil_cases where office_id = $1 and state = 'investigating' "
                               "order by created_at limit 1", actor.office_id)
    invitees = [InviteeIn(kind="deputy", user_id=deputy), InviteeIn(kind="member", user_id=member),
                InviteeIn(kind="other", name="陈专家", organisation="环境科学研究院", role="participant")]
    await hearings.schedule(conn, box, actor, case, HearingIn(
        kind="hearing", topic="是否提出诉前检察建议", scheduled_at=datetime.now(UTC) + timedelta(days=7),
        place="本院听证室", invitees=invitees))
