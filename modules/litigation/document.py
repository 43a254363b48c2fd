"""The procuratorial recommendation 检察建议书 as a PDF: the office's red header, the number, the agency addressed,
the text, the reply period and the date of issue. Rendered from the issued (immutable) row alone and without
timestamps of its own, so the same recommendation always gives the same bytes. The Chinese text uses reportlab's
built-in CID font STSong-Light, which needs no font file: nothing is fetched or installed at run time."""

from __future__ import annotations

import functools
import hashlib
import io
from typing import TYPE_CHECKING, Any

from litestar import Response
from litestar.openapi.datastructures import ResponseSpec

from api.headers import NOT_MODIFIED, matches_etag
from modules.clocks.calendar import SHANGHAI

if TYPE_CHECKING:
    from litestar import Request
    from reportlab.lib.styles import ParagraphStyle

__all__ = ("DOCUMENT_RESPONSES", "pdf_response", "render")

FONT = "STSong-Light"
DOCUMENT_RESPONSES = {
    200: ResponseSpec(data_container=bytes, media_type="application/pdf", generate_examples=False,
                      description="The recommendation as a PDF; `ETag` is its SHA-256."),
    **NOT_MODIFIED,
}
_NUMERALS = "〇一二三四五六七八九"


@functools.cache
def _font() -> str:
    # reportlab (about 10 MB in every API worker) is imported when the first document is rendered, not at start.
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _style(name: str, size: float, **kw: Any) -> ParagraphStyle:
    from reportlab.lib.styles import ParagraphStyle

    _font()
    return ParagraphStyle(name, fontName=FONT, fontSize=size, leading=size * 1.7, wordWrap="CJK", **kw)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chinese_date(rec: Any) -> str:
    day = rec["issued_at"].astimezone(SHANGHAI).date()
    year = "".join(_NUMERALS[int(d)] for d in str(day.year))
    return f"{year}年{day.month}月{day.day}日"


def render(rec: Any, office_name: str) -> bytes:
    """The recommendation row (as issued) and the issuing office's name in, the PDF's bytes out."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Spacer

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=28 * mm, rightMargin=26 * mm, topMargin=30 * mm,
                            bottomMargin=30 * mm, title=f"检察建议书 {rec['rec_no']}", author=office_name,
                            invariant=1)
    period = "十五日" if rec["urgent"] else "两个月"
    body = [Paragraph(_escape(p), _style("body", 14, firstLineIndent=28)) for p in rec["content"].splitlines()
            if p.strip()]
    story = [
        Paragraph(_escape(office_name), _style("head", 24, alignment=TA_CENTER, textColor=colors.red)),
        Spacer(1, 2 * mm),
        HRFlowable(width="100%", thickness=1.5, color=colors.red),
        Spacer(1, 6 * mm),
        Paragraph("检察建议书", _style("title", 20, alignment=TA_CENTER)),
        Paragraph(_escape(rec["rec_no"]), _style("no", 12, alignment=TA_CENTER)),
        Spacer(1, 6 * mm),
        Paragraph(f"{_escape(rec['agency_name'])}：", _style("to", 14)),
        *body,
        Paragraph(f"请你单位在收到本检察建议书之日起{period}内依法办理，并将办理情况书面回复本院。",
                  _style("reply", 14, firstLineIndent=28)),
        Spacer(1, 14 * mm),
        Paragraph(_escape(office_name), _style("sign", 14, alignment=TA_RIGHT)),
        Paragraph(_chinese_date(rec), _style("date", 14, alignment=TA_RIGHT)),
    ]
    doc.build(story)
    return out.getvalue()


def pdf_response(request: Request[Any, Any, Any], rec: Any, office_name: str) -> Response[bytes]:
    """The document as a download, with its SHA-256 as ETag (304 when the caller has it)."""
    data = render(rec, office_name)
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
               "Content-Disposition": f"attachment; filename=\"{rec['rec_no']}.pdf\""}
    if matches_etag(request, etag):
        return Response(b"", status_code=304, headers=headers)
    return Response(data, media_type="application/pdf", headers=headers)
