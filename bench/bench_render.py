"""Benchmark the envelope renderer against plain reportlab on the same pieces.

Renders N cn-dl pieces (front and back, Code 128, QR) two ways in one process on one
core: the plain reportlab way (everything redrawn on every page through canvas calls and
reportlab's own Code128 and QR widgets, same embedded fonts), then the project renderer.
Prints pieces/s of each and the ratio, then the peak RSS of a fresh process rendering one
file of the largest allowed size.

    .venv/bin/python bench/bench_render.py                 # 2,000 pieces, print only
    .venv/bin/python bench/bench_render.py --write-readme  # and update bench/README.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from readme_sections import cpu_name, write_section  # noqa: E402
from reportlab import Version as REPORTLAB_VERSION  # noqa: E402
from reportlab.graphics.barcode.code128 import Code128  # noqa: E402
from reportlab.graphics.barcode.qr import QrCodeWidget  # noqa: E402
from reportlab.graphics.renderPDF import draw as draw_drawing  # noqa: E402
from reportlab.graphics.shapes import Drawing  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from mailer.envelopes import (  # noqa: E402
    MAX_PIECES_PER_FILE,
    PROFILES,
    EnvelopePiece,
    Sender,
    reasons_for,
    render_envelopes,
)
from mailer.envelopes.fonts import font_stack  # noqa: E402
from mailer.envelopes.layout import contact_line, fit_block, wrap  # noqa: E402

README = ROOT / "bench" / "README.md"
SECTION = "## Envelope rendering"

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
_CITIES = (
    "北京市朝阳区",
    "上海市浦东新区",
    "广东省广州市天河区",
    "四川省成都市武侯区",
    "浙江省杭州市西湖区",
    "湖北省武汉市洪山区",
)
_ROADS = ("建国路", "世纪大道", "天河北路", "人民南路", "文三路", "珞喻路", "中山东一路")
_ESTATES = ("阳光花园", "锦绣家园", "翠苑小区", "东方明珠小区", "和平里")


def make_pieces(count: int, seed: int = 1416) -> list[EnvelopePiece]:
    """Return ``count`` varied cn-dl pieces shaped like a batch's, the same for the same seed."""
    rng = random.Random(seed)
    crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    pieces = []
    for _ in range(count):
        name = rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.randint(1, 2)))
        # As mailer.batches makes them: an 8-symbol piece code and a link signed with 10 more.
        code = "".join(rng.choices(crockford, k=8))
        link = f"mailer.example.cn/u/{code}-{''.join(rng.choices(crockford, k=10))}"
        pieces.append(
            EnvelopePiece(
                piece_code=code,
                lines=(
                    f"{name} 收",
                    f"{rng.choice(_CITIES)}{rng.choice(_ROADS)}{rng.randint(1, 999)}号",
                    f"{rng.choice(_ESTATES)}{rng.randint(1, 40)}号楼{rng.randint(1, 30)}{rng.randint(1, 4):02d}室",
                ),
                postal_code=f"{rng.randint(100000, 850000)}",
                update_url=f"https://{link}",
                short_url=link,
            )
        )
    return pieces


SENDER = Sender(
    name="书友会会员服务中心",
    lines=("北京市朝阳区建国路88号SOHO现代城A座1201室",),
    postal_code="100022",
    website="www.example.cn",
    hotline="400-810-1234",
)


def render_plain(pieces: list[EnvelopePiece], out: io.BytesIO) -> None:
    """Draw every element of every page through reportlab's canvas and widgets."""
    profile = PROFILES["cn-dl"]
    reasons = reasons_for(profile)
    fonts = font_stack()
    back = profile.back
    canvas = Canvas(out, pagesize=(profile.width, profile.height), initialFontName=fonts.primary.fontName)

    def text(value: str, x: float, y: float, size: float, align: str = "left") -> None:
        if align != "left":
            width = fonts.width(value, size)
            x -= width if align == "right" else width / 2
        for run in fonts.runs(value):
            canvas.setFont(run.font.fontName, size)
            canvas.drawString(x, y, run.text)
            x += run.font.stringWidth(run.text, size)

    for piece in pieces:
        boxes = profile.postcode_boxes
        canvas.setStrokeColorRGB(*boxes.colour)
        for box, digit in zip(boxes.boxes(), piece.postal_code, strict=True):
            canvas.rect(box.x, box.y, box.width, box.height)
            text(digit, box.x + box.width / 2, box.y + 2 * boxes.box_height / 9, boxes.digit_size, "centre")
        canvas.setStrokeColorRGB(0, 0, 0)
        stamp = profile.stamp.box
        canvas.setDash(2, 2)
        canvas.rect(stamp.x, stamp.y, stamp.width, stamp.height)
        canvas.setDash()
        text(profile.stamp.label, stamp.x + stamp.width / 2, stamp.y + stamp.height / 2, 8, "centre")
        for caption in profile.captions:
            text(caption.text, caption.slot.x, caption.slot.y, caption.slot.size, caption.slot.align)
        size, _ = fit_block(piece.lines, profile.recipient, fonts)
        for index, line in enumerate(piece.lines):
            text(line, profile.recipient.box.x, profile.recipient.box.top - size * (1 + index * 1.3), size)
        sender_size, _ = fit_block(SENDER.address_lines, profile.return_address, fonts)
        for index, line in enumerate(SENDER.address_lines):
            box = profile.return_address.box
            text(line, box.x, box.top - sender_size * (1 + index * 1.3), sender_size)
        slot = profile.sender_postcode.slot
        text(profile.sender_postcode.text.format(postal_code=SENDER.postal_code), slot.x, slot.y, slot.size, "right")
        barcode = profile.barcode
        symbol = Code128(piece.piece_code, barWidth=barcode.module, barHeight=barcode.bar_height)
        symbol.drawOn(canvas, barcode.x, barcode.y)
        text(piece.piece_code, barcode.x + symbol.width / 2, barcode.text_y, barcode.text_size, "centre")
        canvas.showPage()

        text(contact_line(SENDER, profile), back.contact.x, back.contact.y, back.contact.size)
        heading = back.reasons_heading
        text(heading.text, heading.slot.x, heading.slot.y, heading.slot.size)
        column_width = back.reasons_box.width / back.reason_columns
        for index, (code, label) in enumerate(reasons):
            row, column = divmod(index, back.reason_columns)
            x = back.reasons_box.x + column * column_width
            y = back.reasons_box.top - (row + 0.7) * back.reason_row_height
            canvas.rect(x, y - 1, back.tick_size, back.tick_size)
            text(f"{label}  {code}", x + back.tick_size * 1.6, y, back.reason_size)
        for index, line in enumerate(wrap(back.notice, back.notice_box.width, back.notice_size)):
            text(line, back.notice_box.x, back.notice_box.top - back.notice_size * (1 + index * 1.35), back.notice_size)
        text(back.qr_caption.text, back.qr_caption.slot.x, back.qr_caption.slot.y, back.qr_caption.slot.size, "centre")
        qr = back.qr.box
        widget = QrCodeWidget(piece.update_url, barLevel="M", barWidth=qr.width, barHeight=qr.height)
        drawing = Drawing(qr.width, qr.height)
        drawing.add(widget)
        draw_drawing(drawing, canvas, qr.x, qr.y)
        text(piece.short_url, back.short_url.x, back.short_url.y, back.short_url.size, "centre")
        canvas.showPage()
    canvas.save()


def render_project(pieces: list[EnvelopePiece], out: io.BytesIO) -> None:
    profile = PROFILES["cn-dl"]
    render_envelopes(pieces, profile=profile, sender=SENDER, reasons=reasons_for(profile), out=out)


def timed(render, pieces: list[EnvelopePiece]) -> tuple[float, int]:
    """Return (seconds, bytes) of one render of ``pieces`` into memory."""
    out = io.BytesIO()
    started = time.perf_counter()
    render(pieces, out)
    return time.perf_counter() - started, len(out.getvalue())


def peak_rss_child(count: int) -> tuple[float, float]:
    """Return the peak RSS in MiB of a fresh process after imports and after rendering ``count`` pieces."""
    result = subprocess.run(
        [sys.executable, __file__, "--rss-child", str(count)], check=True, capture_output=True, text=True
    )
    before, after = result.stdout.split()
    return float(before), float(after)


def _peak_rss_mib() -> float:
    # VmHWM belongs to this process's own address space; ru_maxrss would also count the
    # parent's memory at fork, which Linux carries across exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_child(count: int) -> None:
    pieces = make_pieces(count)
    font_stack()
    before = _peak_rss_mib()
    render_project(pieces, io.BytesIO())
    after = _peak_rss_mib()
    print(f"{before:.0f} {after:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pieces", type=int, default=2000, help="pieces per timed run of the renderer (default 2000)")
    parser.add_argument("--plain-pieces", type=int, default=100,
                        help="pieces per timed run of plain reportlab (default 100)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternate the two this many times, so a busy machine slows both alike (default 5)")
    parser.add_argument("--rss-pieces", type=int, default=MAX_PIECES_PER_FILE, help="pieces in the RSS run")
    parser.add_argument("--write-readme", action="store_true", help="write the results to bench/README.md")
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        _rss_child(args.rss_child)
        return

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one worker, one core
    pieces = make_pieces(args.pieces)
    font_stack()
    render_project(pieces[:20], io.BytesIO())  # warm up imports and caches for both
    render_plain(pieces[:5], io.BytesIO())

    plain_seconds = project_seconds = 0.0
    plain_bytes = project_bytes = plain_count = project_count = 0
    for round_no in range(args.rounds):
        chunk = pieces[(round_no * args.plain_pieces) % len(pieces):][: args.plain_pieces]
        seconds, size = timed(render_plain, chunk)
        plain_seconds, plain_bytes, plain_count = plain_seconds + seconds, plain_bytes + size, plain_count + len(chunk)
        seconds, size = timed(render_project, pieces)
        project_seconds, project_bytes = project_seconds + seconds, project_bytes + size
        project_count += len(pieces)
    plain_rate = plain_count / plain_seconds
    project_rate = project_count / project_seconds
    ratio = project_rate / plain_rate
    before_mib, after_mib = peak_rss_child(args.rss_pieces)

    print(f"plain reportlab : {plain_rate:8.1f} pieces/s  {plain_bytes / plain_count / 1024:6.1f} KiB/piece")
    print(f"project renderer: {project_rate:8.1f} pieces/s  {project_bytes / project_count / 1024:6.1f} KiB/piece")
    print(f"ratio           : {ratio:8.1f}x")
    print(
        f"peak RSS, one file of {args.rss_pieces} pieces: {after_mib:.0f} MiB ({before_mib:.0f} MiB before rendering)"
    )

    if args.write_readme:
        today = dt.date.today().isoformat()
        plain_kib = plain_bytes / plain_count / 1024
        project_kib = project_bytes / project_count / 1024
        url_length = len(pieces[0].update_url)
        section = f"""{SECTION}

`bench/bench_render.py`: cn-dl pieces (front and back, 8-symbol piece code as Code 128, QR code
of a {url_length}-character signed update URL) rendered in one process pinned to one core, in
{args.rounds} alternating rounds of {args.plain_pieces:,} pieces the plain reportlab way (every
element redrawn on every page through canvas calls and reportlab's Code128 and QR widgets, the same
embedded fonts) and {len(pieces):,} pieces with
`mailer.envelopes.render_envelopes` (static layer as a form XObject per side, Code 128 and QR
as one path each, QR encoded by zxing-cpp, binary streams, every page written in one step with
one resource dictionary shared by all pages and its stream compressed as it is added, the
postcode digits' text operators worked out once per file).

| renderer | pieces/s | pages/s | KiB/piece | vs plain |
|---|---:|---:|---:|---:|
| plain reportlab (baseline) | {plain_rate:,.0f} | {2 * plain_rate:,.0f} | {plain_kib:.1f} | 1.0× |
| `render_envelopes` | {project_rate:,.0f} | {2 * project_rate:,.0f} | {project_kib:.1f} | {ratio:.1f}× |

Peak RSS of a fresh process rendering one file of {args.rss_pieces:,} pieces ({2 * args.rss_pieces:,} pages):
{after_mib:.0f} MiB ({before_mib:.0f} MiB after imports and font loading, before rendering).

Measured {today} on a 2-core machine ({cpu_name()}) shared with other work, Python
{platform.python_version()}, reportlab {REPORTLAB_VERSION}. Ratios compare runs alternating in the
same process, so both see the same load; absolute numbers vary with the machine and its load.
Run: `.venv/bin/python bench/bench_render.py --write-readme`.

"""
        write_section(SECTION, section)
        print(f"wrote {README.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
