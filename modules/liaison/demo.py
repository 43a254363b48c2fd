"""Demo data for liaison: a register per district (the demo deputy and member accounts linked to their entries),
contacts, suggestions in varied states, an open day, a hearing invitation and a bulletin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from auth.audit import Actor
from modules.clocks.store import today
from modules.liaison import suggestions
from modules.liaison.schemas import InvitationIn, LiaisonBulletinIn, RepresentativeIn

if TYPE_CHECKING:
    import asyncpg

    from auth.secretbox import SecretBox

__all__ = ("load",)

_REGISTER = [
    ("deputy", "district", "王建国", "金山区人大代表团石化街道代表组", "某化工企业工程师", "13916000001"),
    ("deputy", "municipal", "李秀英", "上海市人大代表团金山代表组", "某社区党委书记", "13916000002"),
    ("deputy", "district", "张伟", "朱泾镇代表组", "某农业合作社负责人", "13916000003"),
    ("member", "district", "陈静", "区政协法制界", "某律师事务所律师", "13916000004"),
    ("member", "district", "刘洋", "区政协经济界", "某民营企业董事长", "13916000005"),
    ("member", "municipal", "赵敏", "市政协医卫界", "某医院副院长", "13916000006"),
]
_SUGGESTIONS = [
    ("关于加强生态环境公益诉讼的建议", "建议加大对河道污染的公益诉讼力度，并定期通报办理情况。"),
    ("关于未成年人检察工作的建议", "建议在中小学开展法治进校园活动，覆盖全区学校。"),
    ("关于优化检察服务窗口的建议", "建议延长周末接待时间，方便上班群众来访。"),
]


async def load(conn: asyncpg.Connection, box: SecretBox, offices: list[str]) -> None:
    """Switch the module on; fill each office's register and items only the first time."""
    from modules.liaison import bulletins, invitations, register

    for code in offices:
        office = await conn.fetchrow("select id, code, name from offices where code = $1", code)
        await conn.execute(
            "insert into office_modules (office_id, module, enabled, config) values ($1, 'liaison', true, $2) "
            "on conflict (office_id, module) do update set enabled = true",
            office["id"], {"cadence": {"roles": ["chief", "dept_head"], "deputies": 5, "members": 5}})
        if await conn.fetchval("select exists (select 1 from liaison_representatives where office_id = $1)",
                               office["id"]):
            continue
        users = dict(await conn.fetch("select username, id from users where username like $1", f"{code}.%"))
        staff = users.get(f"{code}.liaison_office")
        if staff is None:
            continue
        actor = Actor(id=str(staff), kind="staff", office_id=office["id"], device_id="demo", ip=None,
                      request_id="demo-load")
        reps: list[Any] = []
        for kind, level, name, delegation, post, phone in _REGISTER:
            reps.append(await register.add(conn, box, actor, office["id"], RepresentativeIn(
                kind=kind, level=level, name=name, delegation=delegation, post=post,  # type: ignore[arg-type]  # the demo register's values are members of the schema's Literals
                phone=phone, address=f"上海市{office['name']}某路{len(reps) + 1}号", handler_id=staff)))
        # The demo representatives' accounts sign in as the first deputy and the first member of the register.
        for kind, rep in (("deputy", reps[0]), ("member", reps[3])):
            if users.get(f"{code}.{kind}"):
                await conn.execute("update liaison_representatives set user_id = $2 where id = $1", rep["id"],
                                   users[f"{code}.{kind}"])
        chief = users.get(f"{code}.chief")
        for i, rep in enumerate(reps[:4]):
            await conn.execute(
                "insert into liaison_contacts (office_id, representative_id, kind, contacted_on, staff_id, summary, "
                "created_by) values ($1, $2, $3, $4, $5, $6, $7)",
                office["id"], rep["id"], ("visit", "call", "meeting", "visit")[i], today() - timedelta(days=i),
                chief or staff, "通报检察工作情况，听取意见建议。", staff)
        for i, (title, body) in enumerate(_SUGGESTIONS):
            row = await suggestions.submit(conn, actor, dict(office), reps[i * 2 % len(reps)], channel="session",
                                           title=title, body=body, created_by=staff)
            if i >= 1:
                await suggestions.assign(conn, actor, row, department="第八检察部", handler_id=None)
        now = datetime.now(UTC)
        await invitations.create(conn, actor, office["id"], InvitationIn(
            kind="open_day", title="检察开放日：走进公益诉讼", place=f"{office['name']}检察院", capacity=20,
            starts_at=now + timedelta(days=14), representative_ids=[r["id"] for r in reps]))
        await invitations.create(conn, actor, office["id"], InvitationIn(
            kind="hearing", title="某不起诉案件公开听证", place="听证室", capacity=3,
            starts_at=now + timedelta(days=7), representative_ids=[reps[0]["id"], reps[3]["id"]]))
        await bulletins.publish(conn, actor, office["id"], LiaisonBulletinIn(
            kind="work_report", audience="all", title="本院前三季度检察工作情况通报",
            body="前三季度，本院共办理各类案件……（演示数据）"))
