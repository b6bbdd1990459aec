"""Sample senders and pieces, and page rasterizing, for the envelope tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from mailer.envelopes import EnvelopePiece, EnvelopeProfile, Sender

CN_SENDER = Sender(
    name="书友会会员服务中心",
    lines=("北京市朝阳区建国路88号SOHO现代城A座1201室",),
    postal_code="100022",
    website="www.example.cn",
    hotline="400-810-1234",
)
US_SENDER = Sender(
    name="Northwind Books",
    lines=("PO Box 1234", "Portland OR 97208-1234"),
    postal_code="97208",
    website="www.northwind.example",
    hotline="1-800-555-0100",
)
SENDERS = {"cn-dl": CN_SENDER, "us-10": US_SENDER}


def cn_piece(number: int = 1, **changes: object) -> EnvelopePiece:
    """Return a cn-dl piece that fits, with ``changes`` applied."""
    code = f"C7K3M9{number:02d}"
    values: dict[str, object] = {
        "piece_code": code,
        "lines": ("张伟 收", f"上海市浦东新区世纪大道{number}号", f"东方明珠小区3号楼{1200 + number}室"),
        "postal_code": f"20012{number % 10}",
        "update_url": f"https://mailer.example.cn/u/{code}-Q4ZP7N2KWT",
        "short_url": f"mailer.example.cn/u/{code}-Q4ZP7N2KWT",
    }
    values.update(changes)
    return EnvelopePiece(**values)  # type: ignore[arg-type]


def us_piece(number: int = 1, **changes: object) -> EnvelopePiece:
    """Return a us-10 piece that fits, with ``changes`` applied."""
    code = f"U7K3M9{number:02d}"
    values: dict[str, object] = {
        "piece_code": code,
        "lines": ("JANE Q PUBLIC", f"{1200 + number} ELM ST APT 5", "SPRINGFIELD IL 62704-1234"),
        "postal_code": "62704",
        "update_url": f"https://mailer.example.com/u/{code}-Q4ZP7N2KWT",
        "short_url": f"mailer.example.com/u/{code}-Q4ZP7N2KWT",
        # Barcode ID 00, service type 270, Mailer ID 123456, serial = number, ZIP+4 62704-1234.
        "imb_digits": f"00270123456{number:09d}627041234",
    }
    values.update(changes)
    return EnvelopePiece(**values)  # type: ignore[arg-type]


PIECE_FACTORIES: dict[str, Callable[..., EnvelopePiece]] = {"cn-dl": cn_piece, "us-10": us_piece}


def require_tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} not found: install Debian's poppler-utils"
    return path


def rasterize(pdf: Path, page: int, dpi: int = 300) -> Image.Image:
    """Render one page (1-based) of ``pdf`` to a greyscale image with poppler."""
    with tempfile.TemporaryDirectory() as directory:
        prefix = Path(directory) / "page"
        subprocess.run(
            [
                require_tool("pdftoppm"),
                "-r",
                str(dpi),
                "-f",
                str(page),
                "-l",
                str(page),
                "-gray",
                "-png",
                "-singlefile",
                str(pdf),
                str(prefix),
            ],
            check=True,
            capture_output=True,
        )
        with Image.open(prefix.with_suffix(".png")) as image:
            return image.convert("L")


@dataclass(frozen=True)
class RenderedFile:
    profile: EnvelopeProfile
    pieces: tuple[EnvelopePiece, ...]
    path: Path
