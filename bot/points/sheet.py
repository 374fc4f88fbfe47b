"""A printable sheet of collection-point QR codes: one code per point with its name, street and
address, six to an A4 page (reportlab: vector QR codes, Chinese text in the built-in STSong CID
font, which PDF readers supply, so nothing is embedded)."""

from __future__ import annotations

from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from bot.points import Point

FONT = "STSong-Light"
COLUMNS, ROWS = 2, 3
PER_PAGE = COLUMNS * ROWS
QR_SIZE = 62 * mm


def link_for(point: Point, template: str) -> str:
    """What the code says: e.g. `https://t.me/<bot>?start=point_{id}` (a Telegram deep link)."""
    return template.format(id=point.id)


def render_sheet(points: list[Point], out: Path, template: str, title: str = "人民建议征集点") -> int:
    """Write the PDF; returns the number of codes."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    canvas = Canvas(str(out), pagesize=A4)
    canvas.setTitle(title)
    width, height = A4
    cell_w, cell_h = width / COLUMNS, (height - 20 * mm) / ROWS
    for index, point in enumerate(points):
        if index and index % PER_PAGE == 0:
            canvas.showPage()
        slot = index % PER_PAGE
        if slot == 0:
            canvas.setFont(FONT, 11)
            canvas.drawCentredString(width / 2, height - 12 * mm, f"{title} · 扫码提建议")
        col, row = slot % COLUMNS, slot // COLUMNS
        x0, top = col * cell_w, height - 20 * mm - row * cell_h
        widget = QrCodeWidget(link_for(point, template), barLevel="M")
        x1, y1, x2, y2 = widget.getBounds()
        drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x2 - x1), 0, 0, QR_SIZE / (y2 - y1), 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, canvas, x0 + (cell_w - QR_SIZE) / 2, top - 8 * mm - QR_SIZE)
        canvas.setFont(FONT, 14)
        canvas.drawCentredString(x0 + cell_w / 2, top - 16 * mm - QR_SIZE, point.name)
        canvas.setFont(FONT, 9)
        canvas.drawCentredString(x0 + cell_w / 2, top - 22 * mm - QR_SIZE, f"{point.street} {point.address}".strip())
        canvas.drawCentredString(x0 + cell_w / 2, top - 27 * mm - QR_SIZE, f"编号 {point.id}")
    canvas.showPage()
    canvas.save()
    return len(points)
