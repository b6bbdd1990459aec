"""What every benchmark script shares: the machine's name and its own section of bench/README.md."""

from __future__ import annotations

import platform
import re
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def cpu_name() -> str:
    """Return the processor's model name, for the results' machine note."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_section(heading: str, section: str) -> None:
    """Replace (or add) the section under ``heading`` ("## …") of bench/README.md, leaving the others alone."""
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    # A blank line before the next section, if any.
    text = (
        pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text, count=1).rstrip("\n") + "\n"
        if pattern.search(text)
        else text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    )
    README.write_text(text, encoding="utf-8")
