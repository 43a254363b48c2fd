"""The public-interest litigation module as data: domains, sources, the clue and case workflows, actions, clocks.

[人民检察院公益诉讼办案规则 2021; 两高 interpretation 2020; 检察建议工作规定 2019] (see DOMAIN.md, Module 2)."""

from __future__ import annotations

from typing import Literal

import msgspec

from modules.kernel.workflow import Transition, Workflow

__all__ = (
    "ACTIONS",
    "CASE_STATES",
    "CASE_WORKFLOW",
    "CLOCKS",
    "CLUE_STATES",
    "CLUE_WORKFLOW",
    "DEFAULT_DOMAINS",
    "EVENT_TYPES",
    "EXTERNAL_ACTIONS",
    "FILINGS",
    "ONLY_DELEGATED_OUT",
    "PERMISSION_DEFAULTS",
    "PUBLIC_CLUE_STATUS",
    "ROUTE_STEPS",
    "SOURCES",
    "SUSPENDABLE",
    "SUSPENDED_CLOCKS",
    "TOPICS",
    "WHILE_DELEGATED_OUT",
    "CaseRoute",
    "CaseState",
    "ClueSource",
    "ClueState",
    "Config",
    "delegation_holds",
)

# The "4+N" areas: the four the law names first, then those added since; an office keeps its own list as data.
DEFAULT_DOMAINS: tuple[tuple[str, str], ...] = (
    ("ecology_environment", "生态环境和资源保护"),
    ("food_drug_safety", "食品药品安全"),
    ("state_property", "国有财产保护"),
    ("state_land", "国有土地使用权出让"),
    ("heroes_martyrs", "英雄烈士保护"),
    ("minors", "未成年人保护"),
    ("safe_production", "安全生产"),
    ("personal_information", "个人信息保护"),
    ("military_interests", "军人地位和权益保障"),
    ("anti_monopoly", "反垄断"),
    ("cultural_heritage", "文物和文化遗产保护"),
    ("accessibility", "无障碍环境建设"),
)

SOURCES: dict[str, str] = {
    "field": "办案中发现", "complaint": "控告申诉转来", "partner": "机关移送", "volunteer": "志愿者反映",
    "hotline": "12345热线", "deputy": "代表委员建议", "referral": "其他检察院移送",
}
ClueSource = Literal["field", "complaint", "partner", "volunteer", "hotline", "deputy", "referral"]

CLUE_STATES: dict[str, str] = {
    "registered": "已登记",
    "evaluating": "评估中",
    "inquiring": "初步调查中",
    "opened": "已立案",
    "not_opened": "不立案",
    "referred": "已移送",
}
ClueState = Literal["registered", "evaluating", "inquiring", "opened", "not_opened", "referred"]
# What the clue's source (a volunteer, a partner) is told of its state: a preliminary inquiry is still evaluation.
PUBLIC_CLUE_STATUS: dict[str, str] = {"registered": "received", "evaluating": "under_evaluation",
                                      "inquiring": "under_evaluation", "opened": "accepted",
                                      "not_opened": "not_accepted", "referred": "referred"}

CASE_STATES: dict[str, str] = {
    "investigating": "调查中",
    "suspended": "中止审查",
    "recommendation_issued": "检察建议已发出",
    "recommendation_served": "检察建议已送达",
    "agency_replied": "行政机关已回复",
    "following_up": "跟进调查中",
    "rectification_evaluated": "整改评估完成",
    "announced": "公告中",
    "suing": "已提起诉讼",
    "summoned": "已收到出庭通知",
    "appeared": "已出庭",
    "judged": "已判决",
    "appealed": "上诉（抗诉）中",
    "enforcing": "执行监督中",
    "closed": "已结案",
    "terminated": "终结审查",
    "archived": "已归档",
}
CaseState = Literal["investigating", "suspended", "recommendation_issued", "recommendation_served", "agency_replied",
                    "following_up", "rectification_evaluated", "announced", "suing", "summoned", "appeared", "judged",
                    "appealed", "enforcing", "closed", "terminated", "archived"]
# Where a case may be suspended 中止审查 (and, resumed, returns to).
SUSPENDABLE = frozenset({"investigating", "recommendation_served", "agency_replied", "following_up",
                         "rectification_evaluated", "announced"})
# Review periods a suspension leaves out (their rules allow the `suspension` reason).
SUSPENDED_CLOCKS = ("rectification_review", "civil_review")
CaseRoute = Literal["administrative", "civil"]

ACTIONS: dict[str, str] = {
    "litigation.read": "Read the office's PIL clues and cases, with their timelines and evidence.",
    "litigation.clue.create": "Register a clue from the field, or convert a complaint or a deputy's suggestion "
                              "into a clue.",
    "litigation.clue.submit": "Transfer a clue to the procuratorate (partner agencies, the police).",
    "litigation.handle": "Evaluate clues and handle cases: propose steps, record evidence and filings.",
    "litigation.review": "Review (审核) a proposed PIL decision before it reaches the chief.",
    "litigation.decide": "Decide (决定) to open a case or not, to issue a recommendation, to sue, to close.",
    "litigation.domain.manage": "Keep the office's list of PIL domains.",
    "litigation.recommendation.respond": "As the agency addressed: read, sign for and reply to recommendations.",
    "litigation.volunteer": "Apply to volunteer (益心为公); once approved, submit clues and follow them.",
    "litigation.volunteer.manage": "Approve or turn down the office's volunteer applications.",
    "litigation.assign": "Assign or reassign a case's handler (the department head).",
    "litigation.hearing.answer": "As a deputy, member or volunteer: see and answer invitations to hearings and "
                                 "rectification evaluations.",
}
# What partner clients may be granted (the police and agencies submit clues; agencies answer recommendations).
EXTERNAL_ACTIONS: dict[str, frozenset[str]] = {
    "partner": frozenset({"litigation.clue.submit", "litigation.recommendation.respond"}),
    "citizen": frozenset({"litigation.volunteer", "litigation.hearing.answer"}),
    "deputy": frozenset({"litigation.hearing.answer"}),
    "member": frozenset({"litigation.hearing.answer"}),
}


def _grants(role: str, *actions: str) -> tuple[tuple[str, str], ...]:
    return tuple((role, f"litigation.{a}") for a in actions)


# The national default permission list: the prosecutor proposes, the department head reviews, the chief decides.
PERMISSION_DEFAULTS: tuple[tuple[str, str], ...] = (
    *_grants("prosecutor", "read", "clue.create", "handle"),
    *_grants("assistant", "read", "clue.create"),
    *_grants("dept_head", "read", "clue.create", "handle", "review", "assign", "volunteer.manage"),
    *_grants("chief", "read", "clue.create", "handle", "decide", "assign", "volunteer.manage"),
    *_grants("complaints_office", "clue.create"),
    *_grants("case_mgmt", "read"),
    *_grants("admin", "domain.manage"),
    *_grants("partner", "clue.submit", "recommendation.respond"),
    *_grants("citizen", "volunteer", "hearing.answer"),
    *_grants("deputy", "hearing.answer"),
    *_grants("member", "hearing.answer"),
)

_CHAIN = ("litigation.review", "litigation.decide")
# Where the decision on a clue (open a case, not, or refer) is taken: after the evaluation, with or without 初查.
_DECIDABLE = frozenset({"evaluating", "inquiring"})
_T = Transition

CLUE_WORKFLOW = Workflow(
    states=CLUE_STATES,
    terminal=frozenset({"opened", "not_opened", "referred"}),
    transitions={t.name: t for t in (
        _T(name="evaluate", sources=frozenset({"registered"}), target="evaluating", action="litigation.handle",
           public=False, label_zh="线索评估"),
        # 初步调查: optional, when the evaluation alone cannot tell whether to open a case; the prosecutor starts it
        # with what is to be found out. No national deadline applies (DOMAIN.md, Module 2 step 1), so no clock.
        _T(name="preliminary_inquiry", sources=frozenset({"evaluating"}), target="inquiring",
           action="litigation.handle", needs=("content",), public=False, label_zh="初步调查"),
        # 立案: the chief decides; the route and, on the administrative route, the agency are part of the decision.
        _T(name="open_case", sources=_DECIDABLE, target="opened", action="litigation.handle",
           needs=("route", "reason"), approvals=_CHAIN, public=False, label_zh="立案"),
        _T(name="decline", sources=_DECIDABLE, target="not_opened", action="litigation.handle",
           needs=("reason",), approvals=_CHAIN, public=False, label_zh="不立案"),
        # Major clues go to the office above, others to the office with jurisdiction; naming the office
        # (`referredOffice`) registers the clue there, linked both ways.
        _T(name="refer", sources=frozenset({"registered", *_DECIDABLE}), target="referred",
           action="litigation.handle", needs=("referredTo", "reason"), approvals=_CHAIN, public=False,
           label_zh="移送"),
    )},
)

CASE_WORKFLOW = Workflow(
    states=CASE_STATES,
    terminal=frozenset({"closed", "terminated", "archived"}),
    transitions={t.name: t for t in (
        # 调查方案: the department head approves the plan; 调查: each act is recorded with its evidence entries.
        _T(name="plan_investigation", sources=frozenset({"investigating"}), target="investigating",
           action="litigation.handle", needs=("content",), approvals=("litigation.review",), public=False,
           label_zh="调查方案"),
        _T(name="investigate", sources=frozenset({"investigating"}), target="investigating",
           action="litigation.handle", needs=("content", "evidence"), public=False, label_zh="调查"),
        # 委托调查: evidence in another area is gathered by that area's procuratorate, which has 30 days from the
        # request; the result comes back as an act of this investigation. One delegation is out at a time.
        _T(name="delegate_investigation", sources=frozenset({"investigating"}), target="investigating",
           action="litigation.handle", needs=("delegatedTo", "content"), starts=("delegated_investigation",),
           public=False, label_zh="委托其他检察院调查"),
        _T(name="record_delegated_result", sources=frozenset({"investigating"}), target="investigating",
           action="litigation.handle", needs=("content",), stops=("delegated_investigation",), public=False,
           label_zh="收到委托调查结果"),
        # Administrative route: the pre-litigation recommendation, signed by the chief (统一签发).
        _T(name="issue_recommendation", sources=frozenset({"investigating"}), target="recommendation_issued",
           action="litigation.handle", needs=("content",), approvals=_CHAIN,
           stops=("pil_case_decision_service",), starts=("recommendation_service", "recommendation_filing_upward"),
           public=False, label_zh="发出诉前检察建议"),
        # Made by the agency over the partner API, not offered to staff.
        _T(name="serve", sources=frozenset({"recommendation_issued"}), target="recommendation_served",
           action="litigation.recommendation.respond", stops=("recommendation_service",), offered=False,
           public=False, label_zh="行政机关签收"),
        _T(name="agency_reply", sources=frozenset({"recommendation_served"}), target="agency_replied",
           action="litigation.recommendation.respond", stops=("agency_reply",), offered=False, public=False,
           label_zh="行政机关书面回复"),
        # 跟进调查: repeatable; an on-site follow-up is recorded with its photos in the evidence chain.
        _T(name="follow_up", sources=frozenset({"agency_replied", "following_up"}), target="following_up",
           action="litigation.handle", needs=("content",), public=False, label_zh="跟进调查"),
        # 整改评估: the conclusion (rectified or not) is reviewed by the department head; the chief then closes or sues.
        _T(name="evaluate_rectification", sources=frozenset({"following_up"}), target="rectification_evaluated",
           action="litigation.handle", needs=("content", "conclusion"), approvals=("litigation.review",),
           public=False, label_zh="整改评估"),
        # Civil route: the 30-day notice inviting qualified plaintiffs.
        _T(name="announce", sources=frozenset({"investigating"}), target="announced", action="litigation.handle",
           needs=("content",), approvals=_CHAIN, starts=("public_notice",), public=False, label_zh="发布公告"),
        # 中止审查 with the chief's approval leaves the review periods out; resumption returns where the case was.
        _T(name="suspend", sources=SUSPENDABLE, target="suspended", action="litigation.handle", needs=("reason",),
           approvals=_CHAIN, public=False, label_zh="中止审查"),
        _T(name="resume", sources=frozenset({"suspended"}), target="investigating", back=True,
           action="litigation.handle", needs=("reason",), public=False, label_zh="恢复审查"),
        _T(name="sue", sources=frozenset({"recommendation_served", "agency_replied", "following_up",
                                          "rectification_evaluated", "announced"}), target="suing",
           action="litigation.handle", needs=("reason",), approvals=_CHAIN,
           stops=("rectification_review", "civil_review", "agency_reply", "public_notice"),
           starts=("suit_filing_upward",),
           public=False, label_zh="提起诉讼"),
        # The court's notice to appear: the office names who appears within 3 days.
        _T(name="receive_court_notice", sources=frozenset({"suing", "appealed"}), target="summoned",
           action="litigation.handle", needs=("content",), starts=("court_notice_reply",), public=False,
           label_zh="收到出庭通知书"),
        _T(name="appear_in_court", sources=frozenset({"summoned"}), target="appeared", action="litigation.handle",
           needs=("content",), stops=("court_notice_reply",), public=False, label_zh="出庭"),
        _T(name="record_judgment", sources=frozenset({"suing", "appeared", "appealed"}), target="judged",
           action="litigation.handle", needs=("judgment",), starts=("judgment_filing_upward",), public=False,
           label_zh="判决"),
        # 上诉/抗诉 against a judgment is the chief's decision.
        _T(name="appeal", sources=frozenset({"judged"}), target="appealed", action="litigation.handle",
           needs=("reason",), approvals=_CHAIN, public=False, label_zh="上诉/抗诉"),
        _T(name="supervise_enforcement", sources=frozenset({"judged"}), target="enforcing",
           action="litigation.handle", needs=("content",), public=False, label_zh="执行监督"),
        # Rectified (or the suit concluded): the chief closes the case.
        _T(name="close", sources=frozenset({"agency_replied", "rectification_evaluated", "judged", "enforcing"}),
           target="closed", action="litigation.handle", needs=("disposition",), approvals=_CHAIN,
           stops=("rectification_review",), public=False, label_zh="结案"),
        _T(name="terminate", sources=frozenset({"investigating", "recommendation_served", "agency_replied",
                                                "following_up", "rectification_evaluated", "announced"}),
           target="terminated", action="litigation.handle", needs=("reason",), approvals=_CHAIN,
           stops=("pil_case_decision_service", "agency_reply", "rectification_review", "public_notice",
                  "civil_review", "delegated_investigation"),
           public=False, label_zh="终结审查"),
        _T(name="archive", sources=frozenset({"closed", "terminated"}), target="archived",
           action="litigation.handle", needs=("content",), public=False, label_zh="归档"),
    )},
)

# Steps that belong to one route only (the workflow itself is shared).
ROUTE_STEPS: dict[str, frozenset[str]] = {
    "administrative": frozenset({"issue_recommendation", "serve", "agency_reply", "follow_up",
                                 "evaluate_rectification"}),
    "civil": frozenset({"announce"}),
}

# While a delegated investigation is out, the investigation is not concluded (no recommendation, no notice) and no
# second one is sent; its result is recorded only while one is out.
WHILE_DELEGATED_OUT = frozenset({"delegate_investigation", "issue_recommendation", "announce"})
ONLY_DELEGATED_OUT = frozenset({"record_delegated_result"})


def delegation_holds(step: str, out: bool) -> bool:
    """Whether `step` must wait because a delegated investigation is out (`out`), or is not."""
    return step in (WHILE_DELEGATED_OUT if out else ONLY_DELEGATED_OUT)


# Reports the office owes (to the agency or the office above), each answering one clock.
FILINGS: dict[str, str] = {
    "case_decision_served": "pil_case_decision_service",
    "recommendation_filed_upward": "recommendation_filing_upward",
    "suit_filed_upward": "suit_filing_upward",
    "judgment_filed_upward": "judgment_filing_upward",
    "court_notice_replied": "court_notice_reply",
}

# Every clock the module runs (defined with the shared rules in modules.clocks.rules, with their legal sources).
CLOCKS = ("pil_case_decision_service", "recommendation_service", "recommendation_filing_upward", "agency_reply",
          "rectification_review", "public_notice", "civil_review", "suit_filing_upward", "court_notice_reply",
          "judgment_filing_upward", "delegated_investigation")

# Timeline entries the module writes besides its workflows' steps (type -> label).
EVENT_TYPES: dict[str, str] = {
    "created": "登记线索",
    "case_opened": "立案",
    "evidence.recorded": "固定证据",
    "recommendation.issued": "制发检察建议",
    "recommendation.question": "行政机关就检察建议提问",
    "recommendation.answer": "答复行政机关提问",
    "clock.pause": "期限中止",
    "clock.resume": "期限恢复",
    "clock.extend_request": "申请延长期限",
    "clock.extend": "延长期限",
    "filing.case_decision_served": "送达立案决定书",
    "filing.recommendation_filed_upward": "检察建议报上级院备案",
    "filing.suit_filed_upward": "起诉书报上级院备案",
    "filing.judgment_filed_upward": "判决书报上级院备案",
    "filing.court_notice_replied": "回复出庭通知书",
    "handler.assigned": "指定承办检察官",
    "hearing.scheduled": "安排听证（评估）并邀请",
    "hearing.answered": "受邀人答复",
    "hearing.held": "听证笔录",
}

TOPICS: dict[str, str] = {
    "litigation.staff": "Something happened on a PIL clue or case of the office: its staff's inboxes.",
    "litigation.partner": "Something a partner client must know (a recommendation addressed to it, a clue's fate).",
    "litigation.invitation": "A deputy, member or volunteer was invited to a hearing or an evaluation: their app.",
}


class Config(msgspec.Struct, forbid_unknown_fields=True):
    """An office's configuration of the module: per-clock day types and lead times (as for every module)."""

    clocks: dict[str, dict[str, object]] | None = None
