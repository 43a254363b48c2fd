"""Demo data for public-interest litigation: the module switched on, and per district a clue and a case in every
state (a registered, an evaluated, a declined, a referred clue and one under preliminary inquiry; cases walked
through the real steps to each state of the case workflow, among them a civil case under notice)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auth.audit import Actor
from modules.kernel import steps
from modules.litigation import service

if TYPE_CHECKING:
    import asyncpg

    from auth.secretbox import SecretBox

__all__ = ("fill", "load")

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
    ("ecology_environment", "工地扬尘污染", "建筑工地未落实扬尘防治措施。", "金山新城某工地"),
    ("state_property", "养老金被冒领", "已故人员养老金仍在发放。", "某街道社区"),
    ("ecology_environment", "固体废物非法倾倒", "河滩被倾倒大量工业固废。", "漕泾镇某河滩"),
    ("food_drug_safety", "药店违规销售处方药", "药店无处方销售处方药。", "朱泾镇某药店"),
    ("accessibility", "无障碍设施被占用", "盲道被车辆长期占用。", "石化街道某路段"),
    ("minors", "校园周边违规销售烟草", "学校附近商店向未成年人售烟。", "亭林镇某商店"),
    ("ecology_environment", "饮用水源地违规建设", "水源保护区内新建餐饮项目。", "廊下镇某水源地"),
    ("safe_production", "消防通道被堵塞", "商业综合体消防通道长期堵塞。", "山阳镇某商场"),
    # The last clue stays in its preliminary inquiry (初查).
    ("ecology_environment", "农田疑似被重金属污染", "村民反映农田作物长势异常，疑与附近企业排放有关。", "吕巷镇某村"),
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
        await fill(conn, box, office, _actor(users[f"{code}.prosecutor"], office["id"]))
        await _hearing(conn, box, users[f"{code}.deputy"], users[f"{code}.member"],
                       _actor(users[f"{code}.prosecutor"], office["id"]))


async def fill(conn: asyncpg.Connection, box: SecretBox, office: Any, actor: Actor) -> list[Any]:
    """The office's demo clues and cases (office: its id and code; its `<code>-ecoenv` agency must exist); the
    cases' ids."""
    agency = f"{office['code']}-ecoenv"
    district = "金山区" if office["code"] == "jinshan" else "崇明区"
    clues = []
    for i, (domain, title, text, place) in enumerate(_CLUES):
        clues.append(await service.create_clue(
            conn, box, actor, office_id=office["id"], source="field" if i % 3 else "hotline", domain=domain,
            title=title, description=text, address=f"上海市{district}{place}", latitude=30.74 + i / 100,
            longitude=121.34 + i / 100, public_interest="国家利益和社会公共利益受到侵害", responsible_party=None))
    # clues[0]: registered; [1]: evaluating; [2] declined; [3] referred; [-1] inquiring; the rest became cases.
    for clue in clues[1:]:
        await steps.apply(conn, service.CLUE, actor, clue, "evaluate", {})
    fresh = {c["id"]: await conn.fetchrow("select * from pil_clues where id = $1", c["id"]) for c in clues}
    await steps.apply(conn, service.CLUE, actor, fresh[clues[2]["id"]], "decline", {"reason": "公益损害已消除"})
    await steps.apply(conn, service.CLUE, actor, fresh[clues[3]["id"]], "refer",
                      {"referredTo": "上海市人民检察院", "reason": "重大线索报上一级院"})
    await steps.apply(conn, service.CLUE, actor, fresh[clues[-1]["id"]], "preliminary_inquiry",
                      {"content": "委托检测机构采样检测土壤重金属含量"})
    partner = Actor(id=agency, kind="partner", office_id=office["id"], device_id=None, ip=None, request_id="demo-load")
    cases = []
    for i, (clue, moves) in enumerate(zip(clues[4:-1], _CASES, strict=True)):
        route = "civil" if i == 4 else "administrative"
        fields = {"route": route, "reason": "经评估符合立案条件", "agency": agency, "respondent": "某公司"}
        row = await steps.apply(conn, service.CLUE, actor, fresh[clue["id"]], "open_case", fields)
        await service.carried_out(conn, actor, service.CLUE, row, "open_case", fields)
        case = await conn.fetchrow("select * from pil_cases where clue_id = $1", clue["id"])
        await _walk(conn, actor, partner, case, moves)
        cases.append(case["id"])
    return cases


# The agency's part of the loop, made through the partner API's service functions.
_SERVE, _REPLY = "serve", "reply"
_ISSUE = ("issue_recommendation", {"content": "建议依法履行监督管理职责，督促整改。"})
_SUE = ("sue", {"reason": "行政机关未依法全面履职"})
_COURT = (("receive_court_notice", {"content": "出庭通知书"}), ("appear_in_court", {"content": "出庭支持起诉"}))
_JUDGED = (_ISSUE, _SERVE, _SUE, *_COURT, ("record_judgment", {"judgment": "判决行政机关依法履职"}))
_FOLLOWED = (_ISSUE, _SERVE, _REPLY, ("follow_up", {"content": "回访现场，整改基本到位"}))
_CLOSE = ("close", {"disposition": "行政机关已整改到位"})
_NOTICE = ("announce", {"content": "公告：本院拟对侵害社会公共利益的行为提起民事公益诉讼，"
                                   "法律规定的机关和有关组织可以提起诉讼。"})
# One case of the office per clue from the fifth on, walked through the real steps to a state of its own, so the
# demo has a case in every state of the workflow (approvals taken as given). The fifth (index 4) is civil.
_CASES: tuple[tuple[Any, ...], ...] = (
    (),  # investigating
    (_ISSUE,),  # recommendation_issued
    (_ISSUE, _SERVE),  # recommendation_served
    (_ISSUE, _SERVE, _REPLY, _CLOSE),  # closed
    (_NOTICE,),  # announced (civil)
    _FOLLOWED,  # following_up
    # suspended, with part of the investigation delegated to another area's procuratorate (its 30 days running)
    (("delegate_investigation", {"delegatedTo": "上海市奉贤区人民检察院",
                                 "content": "请调取涉案企业在奉贤的生产记录。"}),
     ("suspend", {"reason": "被告企业进入破产清算"})),
    (_ISSUE, _SERVE, _SUE, _COURT[0]),  # summoned
    (_ISSUE, _SERVE, _REPLY, _CLOSE, ("archive", {"content": "已归档"})),  # archived
    # rectification_evaluated
    (*_FOLLOWED, ("evaluate_rectification", {"content": "现场核查，排污口已封堵", "conclusion": "rectified"})),
    (_ISSUE, _SERVE, _SUE, *_COURT),  # appeared
    _JUDGED,  # judged
    (*_JUDGED, ("appeal", {"reason": "一审判决未支持全部诉讼请求"})),  # appealed
    (*_JUDGED, ("supervise_enforcement", {"content": "监督行政机关履行判决"})),  # enforcing
    (("terminate", {"reason": "公益损害已消除，终结审查"}),),  # terminated
    (_ISSUE, _SERVE, _REPLY),  # agency_replied
    (_ISSUE, _SERVE, _SUE),  # suing
)


async def _walk(conn: asyncpg.Connection, actor: Actor, partner: Actor, case: Any, moves: tuple[Any, ...]) -> None:
    """Carry a demo case on through these steps, with what follows each; the agency signs for and answers the
    recommendation as it does over the partner API."""
    for move in moves:
        row = await conn.fetchrow("select * from pil_cases where id = $1", case["id"])
        if move in (_SERVE, _REPLY):
            rec = await conn.fetchrow("select * from pil_recommendations where case_id = $1", case["id"])
            if move == _SERVE:
                await service.receive(conn, partner, row, rec)
            else:
                await service.reply(conn, partner, row, rec, text="已完成整改，排污口已封堵。", rectified=True)
            continue
        step, fields = move
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
