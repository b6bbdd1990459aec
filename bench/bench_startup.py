"""Benchmark how fast the command line starts: ``--help`` of every command, and ``--version``.

Each command line runs in a fresh ``python`` process, --repeat times, round-robin so a busy
machine slows every row alike; the table gives each one's median and fastest wall time. The
commands are read from mailer's own group, so a new command is timed without editing this
script. Baselines in the same run: the bare interpreter (``python -c pass``), importing Flask
alone (what a command that runs loads first), and building the app with ``create_app()``, which
every start-up did while Flask's group listed the app's commands.

    .venv/bin/python bench/bench_startup.py                 # print only
    .venv/bin/python bench/bench_startup.py --write-readme  # and update bench/README.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from readme_sections import cpu_name, write_section  # noqa: E402

from mailer.cli import cli  # noqa: E402

SECTION = "## Command-line start-up"
LIMIT_SECONDS = 0.4
BASELINES = {
    "python -c pass": ["-c", "pass"],
    "python -c 'import flask'": ["-c", "import flask"],
    "python -c 'create_app()'": ["-c", "from mailer import create_app; create_app()"],
}


def command_paths(command: click.Command = cli, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Yield the path of every command and group under ``command``, itself first."""
    yield path
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            subcommand = command.get_command(context, name)
            if subcommand is not None:
                yield from command_paths(subcommand, (*path, name))


def timed_runs(runs: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    """Run each argument list in a fresh interpreter ``repeat`` times, round-robin; return the wall times."""
    seconds: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(repeat):
        for label, args in runs.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            seconds[label].append(time.perf_counter() - started)
    return seconds


def table(seconds: dict[str, list[float]], labels: list[str]) -> str:
    """Return the results as a Markdown table."""
    lines = ["| command line | median s | fastest s |", "|---|---:|---:|"]
    for label in labels:
        lines.append(f"| `{label}` | {statistics.median(seconds[label]):.3f} | {min(seconds[label]):.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=11, help="runs of each command line (median reported)")
    parser.add_argument("--write-readme", action="store_true", help="write the results to bench/README.md")
    args = parser.parse_args()

    commands = {
        f"python -m mailer {' '.join((*path, '--help'))}": ["-m", "mailer", *path, "--help"]
        for path in command_paths()
    }
    commands["python -m mailer --version"] = ["-m", "mailer", "--version"]
    load_before = os.getloadavg()[0]
    seconds = timed_runs({**BASELINES, **commands}, args.repeat)
    load_after = os.getloadavg()[0]

    baseline_table = table(seconds, list(BASELINES))
    command_table = table(seconds, list(commands))
    slow = [label for label in commands if statistics.median(seconds[label]) >= LIMIT_SECONDS]
    slowest = max(commands, key=lambda label: statistics.median(seconds[label]))
    verdict = (
        f"Every command line starts in under {LIMIT_SECONDS} s (median); the slowest is "
        f"`{slowest}` at {statistics.median(seconds[slowest]):.3f} s."
        if not slow
        else f"{len(slow)} command line(s) take {LIMIT_SECONDS} s or more (median): "
        + ", ".join(f"`{label}`" for label in slow) + "."
    )
    print(baseline_table, command_table, verdict, sep="\n\n")

    if args.write_readme:
        section = f"""{SECTION}

`bench/bench_startup.py`: every command's `--help` (the whole command line, each group, each
command) and `--version`, each run {args.repeat} times in a fresh `python` process, round-robin
so a busy machine slows every row alike. The commands are read from mailer's own group.
Baselines in the same run: the bare interpreter, importing Flask alone (what a command that runs
loads first), and building the app, which every start-up did while Flask's group listed the
app's commands (scipy, pypinyin, reportlab and the whole app).

{baseline_table}

{command_table}

{verdict}

Listing and explaining the commands imports click and the small command modules
only; a command imports Flask and its services, and the app is built, when it runs. `run --help`
is Flask's own command, so it imports Flask.

Measured {dt.date.today().isoformat()} on a {len(os.sched_getaffinity(0))}-core machine ({cpu_name()}),
Python {platform.python_version()}, with other work on it (load average {load_before:.1f} before the runs,
{load_after:.1f} after): the fastest run is closer to an idle machine. Run:
`.venv/bin/python bench/bench_startup.py --write-readme`.
"""
        write_section(SECTION, section)


if __name__ == "__main__":
    main()
