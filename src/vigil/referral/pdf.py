"""Render stored documents to PDF with reportlab, labelled from the language's strings file."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from vigil.config import Config
from vigil.referral.strings import load_strings


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": base["Title"],
        "h": base["Heading3"],
        "p": base["BodyText"],
        "url": ParagraphStyle("url", parent=base["Code"], fontSize=8, leading=10, splitLongWords=True),
    }


def _party(p: dict[str, Any]) -> str:
    return ", ".join(str(p.get(k)) for k in ("name", "address", "email", "phone") if p.get(k)) or "-"


def _removal_order(body: dict[str, Any], s: dict[str, Any], st: dict[str, ParagraphStyle]) -> list[Any]:
    t = s["removal_order"]
    a, b, c, d = body["section_a"], body["section_b"], body["section_c"], body["section_d"]
    e, f, g = body["section_e"], body["section_f"], body["section_g"]
    out: list[Any] = [Paragraph(escape(t["title"]), st["title"]), Paragraph(escape(t["subtitle"]), st["p"])]

    def line(label: str, value: str) -> None:
        out.append(Paragraph(f"<b>{escape(label)}:</b> {escape(value or '-')}", st["p"]))

    def head(key: str) -> None:
        out.append(Paragraph(escape(t[key]), st["h"]))

    months = str(body["obligations"]["preservation_months"])
    out.append(Paragraph(escape(t["deadline"]), st["p"]))
    out.append(Paragraph(escape(t["preservation"]).replace("six months", f"{months} months"), st["p"]))
    out.append(Paragraph(escape(t["confirmation"]), st["p"]))
    head("section_a")
    line(t["issuing_member_state"], a["issuing_member_state"])
    addressee = a["addressee"]
    line(t["addressee"], _party(addressee))
    line(t["legal_representative"], _party(addressee.get("legal_representative") or {}))
    line(t["contact_point"], _party(addressee["contact_point"]))
    line(t["main_establishment_member_state"], a["main_establishment_member_state"])
    line(t["issued_at"], a["issued_at"])
    line(t["reference"], a["reference"])
    head("section_b")
    out.append(Paragraph(f"<b>{escape(t['urls'])}:</b>", st["p"]))
    out.extend(Paragraph(escape(u), st["url"]) for u in b["urls"])
    if b.get("additional_information"):
        line(t["additional_information"], b["additional_information"])
    out.append(Paragraph(f"<b>{escape(t['reasons'])}:</b>", st["p"]))
    for ground in ("a", "b", "c", "d", "e"):
        box = "[X]" if b["grounds"][ground] else "[ ]"
        out.append(Paragraph(f"{box} {escape(t['ground_' + ground])}", st["p"]))
    line(t["further_reasons"], b["further_reasons"])
    head("section_c")
    if c["withhold_from_content_provider"]:
        out.append(Paragraph(f"[X] {escape(t['withhold'])}: {c['withhold_weeks']}", st["p"]))
    else:
        out.append(Paragraph(escape(t["no_withhold"]), st["p"]))
    head("section_d")
    out.append(
        Paragraph(
            f"{'[X]' if d['main_establishment_elsewhere'] else '[ ]'} {escape(t['elsewhere'])}", st["p"]
        )
    )
    if d["main_establishment_elsewhere"]:
        line(t["copy_sent_to"], _party(d["copy_sent_to"]))
    head("section_e")
    line(t["authority_type"], t["type_" + e["authority_type"]])
    line(t["authority"], _party(e))
    line(t["representative"], e.get("representative", ""))
    line(t["file_number"], e.get("file_number", ""))
    head("section_f")
    line(t["follow_up"], _party(f["follow_up"]))
    if f.get("main_establishment_authority"):
        line(t["main_establishment_authority"], _party(f["main_establishment_authority"]))
    head("section_g")
    line(t["redress_body"], g["body"])
    line(t["redress_deadline"], g["deadline"])
    line(t["redress_legislation"], g.get("legislation", ""))
    out.append(Spacer(1, 12 * mm))
    out.append(Paragraph(escape(t["signature"]) + ": ______________________", st["p"]))
    return out


def _simple(body: dict[str, Any], t: dict[str, Any], st: dict[str, ParagraphStyle]) -> list[Any]:
    out: list[Any] = [Paragraph(escape(t["title"]), st["title"])]
    out.append(Paragraph(f"<b>{escape(t['reference'])}:</b> {escape(body['reference'])}", st["p"]))
    if body.get("introduction"):
        out.append(Paragraph(escape(body["introduction"]), st["p"]))
    out.append(Paragraph(f"<b>{escape(t['urls'])}:</b>", st["p"]))
    out.extend(Paragraph(escape(u), st["url"]) for u in body["urls"])
    out.append(Paragraph(f"<b>{escape(t['reasons'])}:</b> {escape(body['reasons'])}", st["p"]))
    if body.get("terms_url"):
        out.append(Paragraph(f"<b>{escape(t['terms'])}:</b> {escape(body['terms_url'])}", st["p"]))
    if body.get("notifier"):
        n = body["notifier"]
        out.append(
            Paragraph(
                f"<b>{escape(t['notifier'])}:</b> {escape(n['name'])} &lt;{escape(n['email'])}&gt;", st["p"]
            )
        )
        out.append(
            Paragraph(f"<b>{escape(t['good_faith'])}:</b> {escape(body['good_faith_statement'])}", st["p"])
        )
    return out


def render_pdf(body: dict[str, Any], config: Config | None = None) -> bytes:
    strings = load_strings(body.get("language", "en"), config)
    st = _styles()
    kind = body["type"]
    flow = _removal_order(body, strings, st) if kind == "removal_order" else _simple(body, strings[kind], st)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"{kind} {body.get('reference') or body['section_a']['reference']}",
        author="vigil",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    doc.build(flow)
    return out.getvalue()
