"""``python -m mailer dedupe ...``: find likely duplicate customers, merge them, undo merges, and
mark pairs as not duplicates."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from mailer.cli import AppGroup, ProgressBar, cli_actor, command_transaction, output_file

if TYPE_CHECKING:
    from mailer.dedupe.service import DuplicateSearch

# What --help shows, written here so that it needs neither rapidfuzz nor pypinyin (a test keeps
# them equal to mailer.dedupe.scoring.DEFAULT_THRESHOLD and mailer.dedupe.service.AUTO_MERGE_FLOOR).
DEFAULT_THRESHOLD = 0.9
AUTO_MERGE_FLOOR = 95.0
PAIR_COLUMNS = (
    "customer_no_a", "customer_no_b", "score", "name_score", "address_score", "match_probability", "cluster",
)
AUTO_MERGE_ENV = "MAILER_DEDUPE_AUTO_MERGE_SCORE"

threshold_option = click.option(
    "--threshold", type=click.FloatRange(0, 1, min_open=True), default=DEFAULT_THRESHOLD,
    show_default=True, help="Report pairs whose match probability is at least this (0-1].",
)
out_option = click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Write the pairs to this CSV file instead of standard output.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as a JSON object.")


@click.group("dedupe", cls=AppGroup, invoke_without_command=True)
@threshold_option
@out_option
@json_option
@click.pass_context
def dedupe_cli(ctx: click.Context, threshold: float, out: Path | None, as_json: bool) -> None:
    """Find likely duplicate customers (the same as `dedupe find`), merge them, undo merges,
    mark pairs as not duplicates."""
    # Only a search without a subcommand needs the app: `dedupe CMD --help` builds none.
    if ctx.invoked_subcommand is None:
        ctx.invoke(find_command, threshold=threshold, out=out, as_json=as_json)


@dedupe_cli.command("find")
@threshold_option
@out_option
@json_option
def find_command(threshold: float, out: Path | None, as_json: bool) -> None:
    """List pairs of customers that are likely one person, grouped, best group first.

    Names and current addresses are compared field by field (Chinese and pinyin alike) with a
    match model fitted on the customers themselves; merged customers, customers without a
    current address, households and pairs marked as not duplicates are left out. Columns:
    customer_no_a, customer_no_b, score (the match probability in percent), name_score and
    address_score (the match weights, log2 odds, the name and the address add),
    match_probability, cluster (every pair of a group is listed). --json adds each pair's
    waterfall of weights. A summary goes to standard error.
    """
    _find(threshold=threshold, out=out, as_json=as_json)


def _find(*, threshold: float, out: Path | None, as_json: bool) -> None:
    from mailer.dedupe.service import find_duplicates

    # Opened before the search, as a shell redirection would be: a path that cannot be written
    # is refused (exit 2) at once, not after minutes of comparing.
    with output_file(out) if out is not None else nullcontext() as handle:
        bar = ProgressBar("Comparing customers")
        # Reading only: nothing to commit.
        with command_transaction(bar=bar, commit=False) as session:
            search = find_duplicates(session, threshold=threshold, progress=bar)
        if handle is not None:
            _write_pairs(handle, search)
    if as_json:
        click.echo(
            json.dumps(
                {"threshold": threshold, "pairs": [pair.as_dict() for pair in search.pairs],
                 "summary": _summary(search)},
                ensure_ascii=False,
            )
        )
        return
    if out is None:
        # A pipe to another program, not a file for a spreadsheet: no byte-order mark.
        _write_pairs(sys.stdout, search, bom=False)
    stats = search.stats
    click.echo(
        f"{stats.customers} customers compared ({search.without_address} without a current address "
        f"left out): {len(search.pairs)} likely duplicate pairs in {search.clusters} groups at match "
        f"probability {threshold:g} or more"
        f"{f' ({search.dismissed} more marked not duplicates)' if search.dismissed else ''}; "
        f"{stats.households} households kept apart; {stats.pairs_compared:,} pairs compared "
        f"({stats.pairs_per_second:,.0f} pairs/s), {search.seconds:.1f} s in all",
        err=True,
    )
    if out is not None:
        click.echo(f"pairs written to {out}", err=True)


def _write_pairs(handle: TextIO, search: DuplicateSearch, *, bom: bool = True) -> None:
    from decimal import Decimal

    from mailer.csv_export import write_csv

    # Customer numbers come from outside: the writer keeps a spreadsheet from running them.
    write_csv(handle, PAIR_COLUMNS, (
        [pair.customer_no_a, pair.customer_no_b, Decimal(f"{pair.score:.1f}"), Decimal(f"{pair.name_score:.1f}"),
         Decimal(f"{pair.address_score:.1f}"), Decimal(f"{pair.match_probability:.6f}"), pair.cluster]
        for pair in search.pairs
    ), bom=bom)
    handle.flush()


def _summary(search: DuplicateSearch) -> dict[str, object]:
    return {
        **search.stats.as_dict(), "without_address": search.without_address, "dismissed": search.dismissed,
        "total_seconds": round(search.seconds, 3),
    }


@dedupe_cli.command("run")
@threshold_option
@click.option(
    "--incremental", is_flag=True,
    help="Compare only customers created or changed since the stored search (or its last refresh) against it, "
         "with its fitted model; the other customers' pairs stay as stored.",
)
def run_command(threshold: float, incremental: bool) -> None:
    """Search every customer and store the pairs found, for the review page to read.

    The stored run replaces the previous one; with --incremental, new and changed customers' pairs are
    added to it instead (--threshold is then the stored run's). Exit status: 0 stored, 1 no stored
    search to add to.
    """
    from mailer.dedupe.stored import IncrementalError, compare_new_customers, store_search

    if incremental:
        try:
            with command_transaction() as session:
                refresh = compare_new_customers(session, actor=cli_actor())
                counts = (refresh.run.id, refresh.customers, refresh.pairs_compared, refresh.pairs_found,
                          refresh.run.pairs_found)
                seconds = refresh.seconds
        except IncrementalError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"duplicate search {counts[0]} refreshed: {counts[1]} new or changed customers, {counts[2]} pairs "
            f"compared, {counts[3]} pairs found; {counts[4]} pairs stored in all ({seconds:.1f} s)"
        )
        return
    bar = ProgressBar("Comparing customers")
    with command_transaction(bar=bar) as session:
        run = store_search(session, actor=cli_actor(), threshold=threshold)
        summary = (run.id, run.pairs_found, run.customers, run.households)
    click.echo(
        f"duplicate search {summary[0]} stored: {summary[1]} pairs among {summary[2]} customers "
        f"({summary[3]} households kept apart)"
    )


@dedupe_cli.command("merge")
@click.argument("survivor_no")
@click.argument("merged_no")
@click.option("--json", "as_json", is_flag=True, help="Print the merge as a JSON object.")
def merge_command(survivor_no: str, merged_no: str, as_json: bool) -> None:
    """Merge customer MERGED_NO into SURVIVOR_NO.

    The survivor gets the other's orders, address history, mail pieces and returns and keeps
    its own current address; MERGED_NO is marked merged and never mailed again. Undo with
    `dedupe undo MERGE_ID`. Exit status: 0 merged, 1 not merged (the reason is printed).
    """
    from mailer.dedupe.service import MergeError, merge_customers, pair_score

    with command_transaction(refused=MergeError, exit_code=1, outcome="nothing was merged") as session:
        scored = pair_score(session, first_no=survivor_no, second_no=merged_no)
        merge = merge_customers(
            session, survivor_no=survivor_no, merged_no=merged_no, actor=cli_actor(),
            score=scored.score if scored else None,
        )
    moved = {table: len(ids) for table, ids in merge.moved.items()}
    if as_json:
        click.echo(json.dumps({"merge_id": merge.id, "survivor": survivor_no, "merged": merged_no,
                               "score": merge.score, "moved": moved}))
        return
    score = f" (score {merge.score:.1f})" if merge.score is not None else ""
    click.echo(f"merge {merge.id}: customer {merged_no} merged into {survivor_no}{score}")
    click.echo("  moved: " + ", ".join(f"{count} {table}" for table, count in moved.items()))


@dedupe_cli.command("undo")
@click.argument("merge_id", type=int)
def undo_command(merge_id: int) -> None:
    """Undo merge MERGE_ID: the rows it moved go back and both customers' statuses are restored.

    Exit status: 0 undone, 1 not undone (the reason is printed).
    """
    from mailer.dedupe.service import MergeError, undo_merge

    with command_transaction(refused=MergeError, exit_code=1, outcome="nothing was changed") as session:
        merge = undo_merge(session, merge_id=merge_id, actor=cli_actor())
    click.echo(f"merge {merge.id} undone")


@dedupe_cli.command("auto")
@click.option(
    "--min-score", type=click.FloatRange(0, 100), default=None,
    help=f"The auto-merge line, a match probability in percent (default: the setting {AUTO_MERGE_ENV}); "
    f"at least {AUTO_MERGE_FLOOR:g}.",
)
@click.option("--dry-run", is_flag=True, help="List what would be merged; merge nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the merges as a JSON object.")
def auto_command(min_score: float | None, dry_run: bool, as_json: bool) -> None:
    """Merge every pair scoring at or above the auto-merge line; the older customer survives.

    Nothing is merged unless a line is configured. Each merge is audited as automatic and can be
    undone. Exit status: 0 done, 2 no usable auto-merge line.
    """
    from flask import current_app

    from mailer.dedupe.service import MergeError, auto_merge

    line = min_score if min_score is not None else current_app.config.get("DEDUPE_AUTO_MERGE_SCORE")
    if line is None:
        click.echo(
            f"error: no auto-merge line configured (pass --min-score or set {AUTO_MERGE_ENV}); "
            "nothing was merged",
            err=True,
        )
        sys.exit(2)
    bar = ProgressBar("Comparing customers")
    with command_transaction(
        refused=MergeError, exit_code=2, outcome="nothing was merged", bar=bar, commit=not dry_run
    ) as session:
        done = auto_merge(session, min_score=float(line), actor=cli_actor(), dry_run=dry_run, progress=bar)
    if as_json:
        click.echo(json.dumps({
            "min_score": float(line), "dry_run": dry_run,
            "merges": [{**pair.as_dict(), "merge_id": merge.id if merge else None} for pair, merge in done],
        }, ensure_ascii=False))
        return
    for pair, merge in done:
        label = f"merge {merge.id}" if merge else "would merge"
        click.echo(f"{label}: {pair.customer_no_a} / {pair.customer_no_b} (score {pair.score:.1f})")
    verb = "would be merged" if dry_run else "merged automatically"
    click.echo(f"{len(done)} pairs {verb} at score {float(line):g} or more", err=True)


@dedupe_cli.command("merges")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the merges as a JSON array.")
def merges_command(limit: int, as_json: bool) -> None:
    """List the latest merges, newest first, with the id `dedupe undo` takes."""
    from mailer.db import db
    from mailer.dedupe.service import list_merges

    rows = list_merges(db.session, limit=limit)
    entries: list[dict[str, Any]] = [
        {"merge_id": merge.id, "survivor": survivor_no, "merged": merged_no, "score": merge.score,
         "automatic": merge.automatic, "actor": merge.actor, "merged_at": merge.merged_at.isoformat(),
         "undone_at": merge.undone_at.isoformat() if merge.undone_at else None}
        for merge, survivor_no, merged_no in rows
    ]
    if as_json:
        click.echo(json.dumps(entries, ensure_ascii=False))
        return
    for entry in entries:
        score = f"{entry['score']:.1f}" if entry["score"] is not None else "-"
        flags = " automatic" if entry["automatic"] else ""
        flags += f" undone {entry['undone_at'][:19]}" if entry["undone_at"] else ""
        click.echo(
            f"{entry['merge_id']:>6}  {entry['merged']} -> {entry['survivor']}  score {score}  "
            f"{entry['merged_at'][:19]}  {entry['actor']}{flags}"
        )


@dedupe_cli.command("dismiss")
@click.argument("first_no")
@click.argument("second_no")
@click.option("--note", default=None, help="Why they are different people (twins, father and son, ...).")
def dismiss_command(first_no: str, second_no: str, note: str | None) -> None:
    """Mark customers FIRST_NO and SECOND_NO as different people: never offered or merged as duplicates.

    Undo with `dedupe restore`. Exit status: 0 marked (or marked already), 1 not marked (the
    reason is printed).
    """
    from mailer.dedupe.service import MergeError, dismiss_pair

    with command_transaction(refused=MergeError, exit_code=1, outcome="nothing was changed") as session:
        _, created = dismiss_pair(session, first_no=first_no, second_no=second_no, actor=cli_actor(), note=note)
    state = "marked" if created else "already marked"
    click.echo(f"customers {first_no} and {second_no} {state} as not duplicates")


@dedupe_cli.command("restore")
@click.argument("first_no")
@click.argument("second_no")
def restore_command(first_no: str, second_no: str) -> None:
    """Take back the not-duplicates mark of FIRST_NO and SECOND_NO, so they may be offered again.

    Exit status: 0 taken back, 1 not changed (the reason is printed).
    """
    from mailer.dedupe.service import MergeError, restore_pair

    with command_transaction(refused=MergeError, exit_code=1, outcome="nothing was changed") as session:
        restore_pair(session, first_no=first_no, second_no=second_no, actor=cli_actor())
    click.echo(f"customers {first_no} and {second_no} may be offered as duplicates again")


@dedupe_cli.command("dismissed")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the pairs as a JSON array.")
def dismissed_command(limit: int, as_json: bool) -> None:
    """List the latest pairs marked as not duplicates, newest first."""
    from mailer.db import db
    from mailer.dedupe.service import list_dismissed

    entries: list[dict[str, Any]] = [
        {"customer_no_a": first_no, "customer_no_b": second_no, "actor": dismissed.actor,
         "dismissed_at": dismissed.dismissed_at.isoformat(), "note": dismissed.note}
        for dismissed, first_no, second_no in list_dismissed(db.session, limit=limit)
    ]
    if as_json:
        click.echo(json.dumps(entries, ensure_ascii=False))
        return
    for entry in entries:
        note = f"  {entry['note']}" if entry["note"] else ""
        click.echo(
            f"{entry['customer_no_a']} / {entry['customer_no_b']}  {entry['dismissed_at'][:19]}  "
            f"{entry['actor']}{note}"
        )
