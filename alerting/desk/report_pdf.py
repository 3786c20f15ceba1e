"""The 值班日报 as a PDF file (``/desk/report.pdf``): the same sections as the printable page, typeset by fpdf2
with a CJK font embedded (subset), so the file reads the same on any machine, with no browser on the server.

The font is a setting (``desk_pdf_font``, default Debian's fonts-noto-cjk); a missing one is
:class:`FontMissing`, which the desk answers with 503 and the setting's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

FONT = "report-cjk"
HEADING_GREY = (225, 225, 225)


@dataclass(frozen=True)
class PdfFont:
    """The CJK font file and, in a collection (.ttc), its face."""

    path: Path
    index: int = 0


class FontMissing(RuntimeError):
    """The configured CJK font is not there."""


@dataclass(frozen=True)
class Table:
    """A section's table: column headings (first column may be blank) and rows of cells, as officers read them."""

    head: list[str]
    rows: list[list[str]]
    widths: tuple[int, ...] = ()


@dataclass(frozen=True)
class Section:
    """A heading, then tables and paragraphs in order."""

    heading: str
    blocks: list[Table | str]


def report_pdf(title: str, sections: list[Section], font: PdfFont) -> bytes:
    """The report as PDF bytes (A4 landscape, the font embedded as a subset)."""
    if not font.path.is_file():
        raise FontMissing(f"the daily report's CJK font {font.path} is missing: install fonts-noto-cjk or set "
                          f"HAZMON_DESK_PDF_FONT to a TrueType/OpenType font with Chinese characters")
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(title)
    pdf.set_creator("hazmon")
    pdf.add_font(FONT, fname=str(font.path), collection_font_number=font.index)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font(FONT, size=16)
    pdf.cell(text=title, new_x="LMARGIN", new_y="NEXT")
    for section in sections:
        pdf.ln(3)
        pdf.set_font(FONT, size=13)
        pdf.cell(text=section.heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=9)
        for block in section.blocks:
            if isinstance(block, Table):
                _table(pdf, block)
            else:
                pdf.multi_cell(w=0, text=block, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _table(pdf: FPDF, table: Table) -> None:
    pdf.ln(1)
    with pdf.table(col_widths=table.widths or None, headings_style=FontFace(fill_color=HEADING_GREY),
                   line_height=5.5, text_align="LEFT") as grid:
        for cells in [table.head, *table.rows]:
            row = grid.row()
            for cell in cells:
                row.cell(cell)
    pdf.ln(1)
