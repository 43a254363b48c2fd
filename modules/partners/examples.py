"""Request bodies of the main partner routes with a worked example each, for the partner OpenAPI document."""

from __future__ import annotations

from typing import Annotated

from litestar.enums import RequestEncodingType
from litestar.openapi.spec import Example
from litestar.params import Body

from modules.partners.schemas import ClueTransferIn, HotlineCallIn, InvolvementIn

__all__ = ("ClueTransferBody", "HotlineCallBody", "InvolvementBody")

HotlineCallBody = Annotated[HotlineCallIn, Body(media_type=RequestEncodingType.JSON, examples=[Example(
    id="hotline-call", summary="一通转办的 12345 来电", value={
        "ticketNo": "20261203-0042", "category": "accusation", "title": "来电反映某窗口违规收费",
        "body": "市民来电反映在某办事窗口被收取不合理费用，请求检察机关依法处理。",
        "caller": {"name": "王某", "phone": "13812345678", "reachable": True}})])]

ClueTransferBody = Annotated[ClueTransferIn, Body(media_type=RequestEncodingType.JSON, examples=[Example(
    id="police-clue", summary="办案中发现的司法工作人员职务犯罪线索", value={
        "caseRef": "JS-GA-2026-0117", "category": "duty-crime", "title": "犯罪嫌疑人供述曾向看守所民警行贿",
        "body": "在办理某盗窃案中，犯罪嫌疑人供述曾向看守所民警行贿，现将线索移送。",
        "fields": {"unit": "某看守所"}})])]

InvolvementBody = Annotated[InvolvementIn, Body(media_type=RequestEncodingType.JSON, examples=[Example(
    id="early-involvement", summary="请求检察机关提前介入", value={
        "caseRef": "JS-GA-2026-0200", "urgency": "urgent",
        "summary": "某化工企业涉嫌非法倾倒危险废物，污染河道约 3 公里。",
        "reason": "案情重大，涉及刑事附带民事公益诉讼，请求提前介入引导取证。"})])]
