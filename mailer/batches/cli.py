"""``python -m mailer batch ...``"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from mailer.cli import AppGroup, cli_actor, command_transaction

if TYPE_CHECKING:
    from mailer.batches.rendering import LayoutRefused
    from mailer.batches.selection import BatchFilters

# What --help shows, written here so that it needs neither the models nor the renderer (a test
# keeps them equal to mailer.envelopes.PROFILES, mailer.batches.selection.RISK_BANDS and
# mailer.batches.rendering.DEFAULT_PIECES_PER_FILE).
PROFILE_KEYS = ("cn-dl", "us-10")
RISK_BAND_NAMES = ("high", "low", "medium")
DEFAULT_PIECES_PER_FILE = 5000
DEFAULT_PROOF_PIECES = 10  # mailer.batches.proof.DEFAULT_PROOF_PIECES


@click.group("batch", cls=AppGroup)
def batch_cli() -> None:
    """Create and render catalog mailing batches."""


def _selection_options(*, required: bool) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Add the options choosing who a batch is for: `batch create` requires campaign and profile, `batch proof` not."""
    options = [
        click.option("--campaign", "campaign_name", required=required, help="Campaign name; created if new."),
        click.option("--profile", required=required, type=click.Choice(PROFILE_KEYS), help="Envelope profile."),
        click.option("--country", "countries", multiple=True,
                     help="Only addresses in this country (repeatable); default: the profile's country."),
        click.option("--region", "regions", multiple=True, help="Only this region/province/state (repeatable)."),
        click.option("--postal-prefix", "postal_prefixes", multiple=True, help="Only postal codes starting so."),
        click.option("--risk-band", "risk_bands", multiple=True, type=click.Choice(RISK_BAND_NAMES),
                     help="Only customers in this churn-risk band (low <0.3, medium <0.7, high)."),
        click.option("--remail", is_flag=True,
                     help="Also select customers already in a batch of this campaign (left out by default)."),
        click.option("--exclude-unverifiable/--include-unverifiable", default=None,
                     help="Leave out (or mail) addresses the postal reference data could not verify; "
                          "default: the EXCLUDE_UNVERIFIABLE setting (off: they are mailed and counted)."),
    ]

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _filters(countries: tuple[str, ...], regions: tuple[str, ...], postal_prefixes: tuple[str, ...],
             risk_bands: tuple[str, ...], exclude_unverifiable: bool | None) -> BatchFilters:
    from flask import current_app

    from mailer.batches.selection import BatchFilters

    if exclude_unverifiable is None:
        exclude_unverifiable = bool(current_app.config["EXCLUDE_UNVERIFIABLE"])
    return BatchFilters(
        countries=tuple(c.upper() for c in countries), regions=regions, postal_prefixes=postal_prefixes,
        risk_bands=risk_bands, exclude_unverifiable=exclude_unverifiable,
    )


@batch_cli.command("create")
@_selection_options(required=True)
@click.option("--dry-run", is_flag=True,
              help="Count the pieces, who is left out, regions, bundles and postage; create nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as a JSON object.")
def create_command(
    campaign_name: str,
    profile: str,
    countries: tuple[str, ...],
    regions: tuple[str, ...],
    postal_prefixes: tuple[str, ...],
    risk_bands: tuple[str, ...],
    remail: bool,
    exclude_unverifiable: bool | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Select recipients: mailable customers, one piece per household, in presort order."""
    from mailer.batches.selection import BatchError, create_batch

    filters = _filters(countries, regions, postal_prefixes, risk_bands, exclude_unverifiable)
    if dry_run:
        _dry_run(campaign_name, profile, filters, remail, as_json)
        return
    with command_transaction(refused=BatchError, exit_code=2) as session:
        batch = create_batch(
            session, campaign_name=campaign_name, profile=profile, filters=filters, remail=remail, actor=cli_actor(),
        )
    # Unverifiable: addresses in the selection the reference data could not verify, mailed or left out.
    unverifiable = batch.unverifiable_pieces + batch.left_out.get("unverifiable", 0)
    result = {
        "batch_id": batch.id, "pieces": batch.piece_count, "unverifiable": unverifiable,
        "unverifiable_mailed": batch.unverifiable_pieces, "left_out": batch.left_out,
    }
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"Batch {batch.id} of {batch.campaign.name!r}: {batch.piece_count} pieces")
    click.echo(f"  unverifiable addresses: {unverifiable} ({batch.unverifiable_pieces} mailed)")
    for reason, count in batch.left_out.items():
        click.echo(f"  left out, {reason.replace('_', ' ')}: {count}")


def _dry_run(campaign_name: str, profile: str, filters: BatchFilters, remail: bool, as_json: bool) -> None:
    from mailer.batches.preview import preview_batch
    from mailer.batches.selection import BatchError

    # Read only: rolled back at the end whatever the preview did.
    with command_transaction(refused=BatchError, exit_code=2, outcome="nothing was created", commit=False) as session:
        preview = preview_batch(
            session, campaign_name=campaign_name, profile=profile, filters=filters, remail=remail, actor=cli_actor()
        )
    if as_json:
        click.echo(json.dumps(preview.as_json(), ensure_ascii=False))
        return
    click.echo(f"Dry run, nothing created: a batch of {preview.campaign!r} would hold {preview.pieces} pieces")
    for reason, count in preview.left_out.items():
        click.echo(f"  left out, {reason.replace('_', ' ')}: {count}")
    click.echo(f"Estimated postage: {preview.postage} {preview.currency} "
               f"({preview.postage_per_piece} {preview.currency} a piece: {preview.postage_basis})")
    click.echo("By region:")
    for row in preview.regions:
        click.echo(f"  {row.key or '(no region)'}: {row.pieces}")
    click.echo(f"By bundle ({len(preview.bundles)} bundles, in presort order):")
    for row in preview.bundles:
        click.echo(f"  {row.key}: {row.pieces}")


@batch_cli.command("proof")
@click.argument("batch_id", type=int, required=False)
@_selection_options(required=False)
@click.option("--customer", "customer_no", help="Only this customer's envelope (customer number).")
@click.option("--first", default=DEFAULT_PROOF_PIECES, show_default=True, help="Envelopes in the proof (at most 100).")
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="The proof PDF to write.")
def proof_command(
    batch_id: int | None,
    campaign_name: str | None,
    profile: str | None,
    countries: tuple[str, ...],
    regions: tuple[str, ...],
    postal_prefixes: tuple[str, ...],
    risk_bands: tuple[str, ...],
    remail: bool,
    exclude_unverifiable: bool | None,
    customer_no: str | None,
    first: int,
    out: Path,
) -> None:
    """Render a proof PDF marked PROOF, with proof codes that are never piece codes.

    Of a batch not yet rendered (BATCH_ID: its first envelopes, or --customer's); of the batch
    --campaign and --profile with the filters would create (nothing is created); or of one
    --customer at their current address on --profile.
    """
    from mailer.batches.jobs import render_settings
    from mailer.batches.proof import ProofError, proof_of_batch, proof_of_customer, proof_of_selection, render_proof
    from mailer.batches.selection import BatchError

    if batch_id is not None and (campaign_name or profile or countries or regions or postal_prefixes or risk_bands
                                 or remail):
        raise click.UsageError("a batch's proof takes its own selection: give BATCH_ID without --campaign, "
                               "--profile or filters")
    if batch_id is None and not profile:
        raise click.UsageError("give BATCH_ID, or --profile with --campaign or --customer")
    if campaign_name and customer_no:
        raise click.UsageError("--customer picks one customer: give it with BATCH_ID or with --profile alone")
    settings = render_settings(out.resolve().parent)
    refused = (ProofError, BatchError)
    with command_transaction(refused=refused, exit_code=2, outcome="nothing was written") as session:
        if batch_id is not None:
            proof = proof_of_batch(session, batch_id=batch_id, first=first, customer_no=customer_no)
        elif campaign_name:
            assert profile is not None
            proof = proof_of_selection(
                session, campaign_name=campaign_name, profile=profile,
                filters=_filters(countries, regions, postal_prefixes, risk_bands, exclude_unverifiable),
                remail=remail, first=first,
                actor=cli_actor(),
            )
        elif customer_no:
            assert profile is not None
            proof = proof_of_customer(session, customer_no=customer_no, profile=profile)
        else:
            raise click.UsageError("with --profile, give --campaign (a would-be batch) or --customer")
        envelopes = render_proof(session, proof, settings=settings, out=out, actor=cli_actor())
    click.echo(f"Proof of {proof.subject}: {envelopes} envelope(s) in {out}")


@batch_cli.command("cancel")
@click.argument("batch_id", type=int)
def cancel_command(batch_id: int) -> None:
    """Cancel a batch whose render has not started; its customers can be selected again in its campaign."""
    from mailer.batches.service import BatchNotFound, CancelRefused, cancel_batch

    refused = (BatchNotFound, CancelRefused)
    with command_transaction(refused=refused, exit_code=2, outcome="nothing was changed") as session:
        cancel_batch(session, batch_id=batch_id, actor=cli_actor())
    click.echo(f"Batch {batch_id} cancelled")


@batch_cli.command("results")
@click.argument("campaign_name")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False),
              help="CSV file to write (default: <campaign>-results.csv here).")
def results_command(campaign_name: str, out_path: Path | None) -> None:
    """Export a campaign's results per batch (CSV): pieces mailed, returned by reason, updated by customers."""
    from mailer.batches.results import ResultsError, export_campaign_results, find_campaign, results_file_name
    from mailer.cli import UnusableInput, output_file

    with command_transaction(
        refused=(ResultsError, UnusableInput), exit_code=2, outcome="nothing was exported"
    ) as session:
        campaign = find_campaign(session, name=campaign_name)
        path = out_path or Path(results_file_name(campaign.name))
        with output_file(path) as handle:
            batches = export_campaign_results(
                session, campaign=campaign, handle=handle, actor=cli_actor(), file_name=path.name
            )
    click.echo(f"Wrote the results of {batches} batch(es) of {campaign.name} to {path}.")


@batch_cli.command("render")
@click.argument("batch_id", type=int)
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the PDFs and manifest.csv.")
@click.option("--pieces-per-file", default=DEFAULT_PIECES_PER_FILE, show_default=True,
              help="Pieces (two pages each) per PDF file.")
@click.option("--workers", default=os.cpu_count() or 1, show_default=True, help="Worker processes.")
@click.option("--queue", "use_queue", is_flag=True,
              help="Put the file jobs on the RQ queue 'render' (REDIS_URL) for `rq worker render` workers.")
@click.option("--no-wait", is_flag=True, help="With --queue: return once queued; finish with `batch finish`.")
@click.option("--hold-unfit", is_flag=True,
              help="Hold pieces whose address does not fit (listed in held.csv) and render the rest.")
@click.option("--allow-test-links", is_flag=True,
              help="Print update links even when PUBLIC_BASE_URL is plain http or localhost (demos only).")
def render_command(
    batch_id: int, out_dir: Path, pieces_per_file: int, workers: int, use_queue: bool, no_wait: bool,
    hold_unfit: bool, allow_test_links: bool,
) -> None:
    """Render a batch to PDF files of at most N pieces and a manifest; resumes an interrupted render."""
    from mailer.batches.jobs import (
        JobFailed,
        no_worker_notice,
        render_queue,
        render_settings,
        wait_for_jobs,
        workers_listening,
    )
    from mailer.batches.rendering import (
        LayoutRefused,
        RenderError,
        enqueue_files,
        prepare_render,
        render_files_locally,
    )

    settings = render_settings(out_dir)
    # Workers read the plan through their own connections: it is committed before they start.
    with command_transaction(refused=RenderError, exit_code=2) as session:
        try:
            pending = prepare_render(
                session, batch_id=batch_id, settings=settings, pieces_per_file=pieces_per_file,
                hold_unfit=hold_unfit, allow_test_links=allow_test_links, actor=cli_actor(),
            )
        except LayoutRefused as exc:
            _refuse_layout(exc)
    file_ids = [f.id for f in pending]
    total = sum(f.last_sequence - f.first_sequence + 1 for f in pending)
    with click.progressbar(length=total, label="Rendering pieces", file=sys.stderr, show_pos=True) as bar:
        if use_queue:
            queue = render_queue()
            jobs = enqueue_files(settings, file_ids, queue=queue)
            click.echo(f"queued {len(jobs)} file job(s) on '{queue.name}'", err=True)
            if no_wait:
                if not workers_listening(queue):
                    click.echo(f"warning: {no_worker_notice(queue)}", err=True)
                click.echo(f"when they are done: python -m mailer batch finish {batch_id} --out {out_dir}")
                return

            def files_done(done: int, total: int) -> None:
                # A terminal shows the bar's label; a log gets a line per file.
                if sys.stderr.isatty():
                    bar.label = f"Rendering pieces, {done} of {total} files done"
                elif done:
                    click.echo(f"{done} of {total} files done", err=True)

            def notice(text: str) -> None:
                # On a line of its own, under the bar, so it is read rather than overwritten.
                click.echo(f"\n{text}", err=True)

            files_done(0, len(jobs))
            try:
                wait_for_jobs(queue, jobs, progress=bar.update, files_done=files_done, notice=notice)
            except JobFailed as exc:
                click.echo(f"error: {exc}; rerun the same command to resume", err=True)
                sys.exit(1)
        else:
            render_files_locally(settings, file_ids, workers=workers, progress=bar.update)
    _finish(batch_id, out_dir)


def _refuse_layout(refused: LayoutRefused) -> NoReturn:
    # Exits inside the plan's transaction, which rolls it back.
    click.echo(f"error: {refused}; nothing was rendered:", err=True)
    for problem in refused.problems:
        click.echo(f"  {problem}", err=True)
    click.echo("Fix those addresses, or render with --hold-unfit to hold those pieces.", err=True)
    sys.exit(1)


@batch_cli.command("finish")
@click.argument("batch_id", type=int)
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False))
def finish_command(batch_id: int, out_dir: Path) -> None:
    """Write the manifest of a batch whose files are all rendered, and freeze it.

    Exit status: 0 written; 1 some files are not rendered yet (finish again once they are); 2 no
    such batch, or one never rendered (run `batch render` first).
    """
    _finish(batch_id, out_dir)


def _finish(batch_id: int, out_dir: Path) -> None:
    from mailer.batches.rendering import FilesPending, RenderError, finish_render

    # Files still being written can be finished later (exit 1); any other refusal needs another
    # command first (exit 2): no such batch, or one never rendered.
    with (
        command_transaction(refused=RenderError, exit_code=2, outcome="nothing was written"),
        command_transaction(refused=FilesPending, exit_code=1, outcome="nothing was written") as session,
    ):
        manifest = finish_render(session, batch_id=batch_id, out_dir=out_dir)
    click.echo(f"Batch {batch_id} rendered: {manifest}")

