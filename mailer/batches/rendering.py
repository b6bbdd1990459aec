"""Rendering a batch into bounded PDF files and a manifest, locally or on an RQ queue.

A batch splits into independent file jobs (ranges of pieces in presort order). Each job opens
its own database connection, renders one file under a temporary name and renames it when
complete, then marks its file done, so an interrupted render resumes with the files not yet
written and never leaves a file that looks complete but is not. Memory stays flat: one file
of at most ``pieces_per_file`` pieces is in memory per worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import date
from ipaddress import ip_address
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

import mailer.models  # noqa: F401  (a worker process must know every mapper before it queries)
from mailer.audit.service import record
from mailer.batches.imb_serials import SerialsInUse, allocate_imb_serials
from mailer.batches.models import Batch, BatchFile, BatchStatus, FileStatus, MailPiece, PieceStatus
from mailer.batches.piece_codes import display_piece_code
from mailer.batches.senders import sender_for
from mailer.batches.tokens import make_token, update_url
from mailer.csv_export import write_csv
from mailer.customers.models import Customer
from mailer.db import make_engine, utcnow
from mailer.envelopes import (
    MAX_PIECES_PER_FILE,
    PROFILES,
    EnvelopePiece,
    LayoutProblem,
    check_layout,
    reasons_for,
    render_envelopes,
)
from mailer.envelopes.imb import ImbIds
from mailer.files import open_private
from mailer.messages import Message, join, stored
from mailer.settings import MissingSecretKey, Settings

logger = logging.getLogger(__name__)

DEFAULT_PIECES_PER_FILE = MAX_PIECES_PER_FILE
MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("piece_code", "customer_no", "postal_code", "bundle", "file", "page")
HOLDS_NAME = "held.csv"


class RenderError(ValueError):
    """A batch cannot be rendered as asked."""


class LayoutRefused(RenderError):
    """Some pieces would not mail as laid out; nothing was rendered."""

    def __init__(self, problems: Sequence[LayoutProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(Message("%(count)s piece(s) do not fit their envelope", count=len(self.problems)))


class TestLinksRefused(RenderError):
    """The update links would point at a test address (plain http, or this machine): no customer could open them."""


class FilesPending(RenderError):
    """Some planned files are not written yet: the render can be finished once they are."""


@dataclass(frozen=True, slots=True)
class RenderSettings:
    """What every file job needs besides its file: where and how to render.

    Jobs put on a queue carry no credentials (``without_secrets``): a queue worker takes the
    database URL and the signing key from its own environment, as the app does.
    """

    database_url: str
    out_dir: str
    secret_key: str
    public_base_url: str
    senders: dict[str, object] | None = None
    # The Intelligent Mail barcode's Mailer ID and service type ID; None: no IMb on US envelopes.
    imb_ids: ImbIds | None = None

    def without_secrets(self) -> RenderSettings:
        """Return these settings without the database URL and secret key, for a job stored in Redis."""
        return replace(self, database_url="", secret_key="")

    def resolved(self) -> RenderSettings:
        """Fill in what a queued job left out from this process's environment (DATABASE_URL, SECRET_KEY)."""
        if self.database_url and self.secret_key:
            return self
        environment = Settings.from_environment()
        secret_key = self.secret_key or environment.secret_key
        if not secret_key:
            raise MissingSecretKey(environment.instance_path)
        return replace(self, database_url=self.database_url or environment.database_url, secret_key=secret_key)


class PrintedPiece(Protocol):
    """A stored piece, or a row of its printed fields."""

    piece_code: str
    lines: list[str]
    postal_code: str
    imb_digits: str | None


def envelope_piece(piece: PrintedPiece, *, secret: str, base_url: str, expires_on: date) -> EnvelopePiece:
    """Return what the renderer needs for a stored piece, with its signed address-update link."""
    token = make_token(secret=secret, piece_code=piece.piece_code, expires_on=expires_on)
    url = update_url(base_url=base_url, token=token)
    return EnvelopePiece(
        piece_code=piece.piece_code,
        lines=tuple(piece.lines),
        postal_code=piece.postal_code,
        update_url=url,
        short_url=url.split("://", 1)[-1],
        # Scanners read the plain code from the bars; people read and type the grouped one.
        readable_code=display_piece_code(piece.piece_code),
        imb_digits=piece.imb_digits,
    )


def is_test_link_address(base_url: str) -> bool:
    """Tell whether update links under this address would not open for customers: plain http or a loopback host."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False  # a host name, not an address


def check_update_links(base_url: str) -> None:
    """Refuse to print update links that no customer could open; name the setting to change."""
    if is_test_link_address(base_url):
        raise TestLinksRefused(
            Message(
                "PUBLIC_BASE_URL is %(url)s: the update links printed on the envelopes would not open for "
                "customers (they need https and a public host). Set PUBLIC_BASE_URL to the site's public "
                "address, or render with --allow-test-links for a demo",
                url=base_url,
            )
        )


def prepare_render(
    session: Session,
    *,
    batch_id: int,
    settings: RenderSettings,
    pieces_per_file: int = DEFAULT_PIECES_PER_FILE,
    hold_unfit: bool = False,
    allow_test_links: bool = False,
    actor: str,
) -> list[BatchFile]:
    """Check every piece's layout and plan the batch's files; return the files still to render.

    Update links on plain http or on this machine are refused unless ``allow_test_links`` (a demo).
    """
    if not 1 <= pieces_per_file <= MAX_PIECES_PER_FILE:
        raise RenderError(f"pieces per file must be between 1 and {MAX_PIECES_PER_FILE}")
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise RenderError(f"no batch {batch_id}")
    if batch.status is BatchStatus.RENDERED:
        raise RenderError(f"batch {batch_id} is already rendered and frozen")
    if batch.status is BatchStatus.CANCELLED:
        raise RenderError(f"batch {batch_id} is cancelled: it cannot be rendered")
    if batch.piece_count == 0:
        # Batches are no longer created empty; one made before would give a print shop an empty manifest.
        raise RenderError(f"batch {batch_id} holds no piece: there is nothing to render")
    if not allow_test_links:
        check_update_links(settings.public_base_url)
    out_dir = Path(settings.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(out_dir, exc) from None
    for leftover in out_dir.glob(".*.tmp"):
        leftover.unlink()  # a file a stopped render did not finish

    files = list(session.scalars(select(BatchFile).where(BatchFile.batch_id == batch_id).order_by(BatchFile.file_no)))
    if not files:
        _hold_or_refuse(session, batch=batch, settings=settings, hold_unfit=hold_unfit)
        _allocate_imb_serials(session, batch=batch, settings=settings)
        files = _plan_files(session, batch=batch, pieces_per_file=pieces_per_file)
    batch.status = BatchStatus.RENDERING
    record(session, actor=actor, action="batch.render", object_type="batch", object_id=str(batch_id),
           detail={"files": len(files)})
    session.flush()
    return [f for f in files if f.status is FileStatus.PENDING or not (out_dir / f.file_name).exists()]


def _allocate_imb_serials(session: Session, *, batch: Batch, settings: RenderSettings) -> None:
    if PROFILES[batch.profile].imb is None or settings.imb_ids is None:
        return
    try:
        allocate_imb_serials(session, batch_id=batch.id, ids=settings.imb_ids, now=utcnow())
    except SerialsInUse as exc:
        raise RenderError(exc.args[0]) from None


def _unwritable(folder: Path, error: OSError) -> RenderError:
    # A folder that cannot be made or written to (no permission, a file in the way): say which.
    return RenderError(
        Message("cannot write to %(folder)s: %(reason)s", folder=str(folder), reason=error.strerror or str(error))
    )


def _hold_or_refuse(session: Session, *, batch: Batch, settings: RenderSettings, hold_unfit: bool) -> None:
    profile = PROFILES[batch.profile]
    problems: list[LayoutProblem] = []
    held: dict[int, Message] = {}
    # Plain rows, not ORM objects: a million pieces must not pile up in the session.
    pieces = session.execute(
        select(MailPiece.id, MailPiece.piece_code, MailPiece.lines, MailPiece.postal_code, MailPiece.imb_digits)
        .where(MailPiece.batch_id == batch.id, MailPiece.status == PieceStatus.READY)
        .execution_options(yield_per=5000)
    )
    checked = 0
    for piece in pieces:
        checked += 1
        found = check_layout(
            envelope_piece(piece, secret=settings.secret_key, base_url=settings.public_base_url,
                           expires_on=batch.update_expires_on),
            profile,
        )
        if found:
            problems.extend(found)
            held[piece.id] = join("; ", [problem.summary for problem in found])
    if problems and not hold_unfit:
        raise LayoutRefused(problems)
    if checked and len(held) == checked:
        # Holding them all would freeze a batch that prints nothing.
        raise RenderError(
            Message(
                "every piece of batch %(batch_id)s would be held (%(reason)s): nothing would be printed. "
                "Fix the addresses or choose another envelope profile",
                batch_id=batch.id, reason=next(iter(held.values())),
            )
        )
    for piece_id, reason in held.items():
        session.execute(
            update(MailPiece)
            .where(MailPiece.id == piece_id)
            .values(status=PieceStatus.HELD, hold_reason=reason[:300], hold_reason_phrase=stored(reason))
        )


def _plan_files(session: Session, *, batch: Batch, pieces_per_file: int) -> list[BatchFile]:
    sequences = list(
        session.scalars(
            select(MailPiece.sequence)
            .where(MailPiece.batch_id == batch.id, MailPiece.status == PieceStatus.READY)
            .order_by(MailPiece.sequence)
        )
    )
    files = []
    for file_no, start in enumerate(range(0, len(sequences), pieces_per_file), start=1):
        chunk = sequences[start : start + pieces_per_file]
        files.append(
            BatchFile(
                batch_id=batch.id, file_no=file_no, first_sequence=chunk[0], last_sequence=chunk[-1],
                file_name=f"batch-{batch.id}-{file_no:04d}.pdf",
            )
        )
    session.add_all(files)
    session.flush()
    return files


def render_file(settings: RenderSettings, file_id: int) -> int:
    """Render one planned file of a batch and mark it done; return its piece count. Runs in any worker."""
    settings = settings.resolved()
    engine = make_engine(settings.database_url)
    try:
        with sessionmaker(engine)() as session:
            batch_file = session.get(BatchFile, file_id)
            if batch_file is None:
                raise RenderError(f"no batch file {file_id}")
            path = Path(settings.out_dir) / batch_file.file_name
            if batch_file.status is FileStatus.DONE and path.exists():
                return 0
            batch = session.get(Batch, batch_file.batch_id)
            assert batch is not None
            profile = PROFILES[batch.profile]
            pieces = [
                envelope_piece(p, secret=settings.secret_key, base_url=settings.public_base_url,
                               expires_on=batch.update_expires_on)
                for p in session.scalars(
                    select(MailPiece)
                    .where(
                        MailPiece.batch_id == batch.id,
                        MailPiece.status == PieceStatus.READY,
                        MailPiece.sequence.between(batch_file.first_sequence, batch_file.last_sequence),
                    )
                    .order_by(MailPiece.sequence)
                )
            ]
            batch_id, file_no = batch.id, batch_file.file_no
        # The read transaction is closed while rendering: on SQLite a long-open read snapshot
        # cannot be turned into a write once another worker has committed.
        render_envelopes(
            pieces,
            profile=profile,
            sender=sender_for(profile.key, settings.senders),
            reasons=reasons_for(profile),
            out=path,
        )
        with sessionmaker(engine)() as session, session.begin():
            session.execute(
                update(BatchFile)
                .where(BatchFile.id == file_id)
                .values(status=FileStatus.DONE, pages=2 * len(pieces), rendered_at=utcnow())
            )
        logger.info("rendered file %s of batch %s (%d pieces)", file_no, batch_id, len(pieces))
        return len(pieces)
    finally:
        engine.dispose()


def render_files_locally(
    settings: RenderSettings,
    file_ids: Sequence[int],
    *,
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Render files in worker processes (or in this process when workers is 1)."""
    if workers <= 1:
        for file_id in file_ids:
            done = render_file(settings, file_id)
            if progress:
                progress(done)
        return
    # Spawned, not forked: a worker starts small instead of inheriting the parent's memory, and
    # never shares the parent's database connections.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(render_file, settings, file_id) for file_id in file_ids]
        for future in as_completed(futures):
            done = future.result()
            if progress:
                progress(done)


def enqueue_files(settings: RenderSettings, file_ids: Iterable[int], *, queue) -> list[str]:  # type: ignore[no-untyped-def]
    """Put one RQ job per file on the queue; return the job ids."""
    jobs = []
    for file_id in file_ids:
        job = queue.enqueue(
            render_file, settings.without_secrets(), file_id, job_id=f"render-file-{file_id}", job_timeout=3600
        )
        jobs.append(job.id)
    return jobs


def finish_render(session: Session, *, batch_id: int, out_dir: Path) -> Path:
    """Once every file is written, write the manifest and freeze the batch; return the manifest path."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise RenderError(Message("no batch %(batch_id)s", batch_id=batch_id))
    # Workers marked files done through their own connections: read them afresh.
    files = list(
        session.scalars(
            select(BatchFile)
            .where(BatchFile.batch_id == batch_id)
            .order_by(BatchFile.file_no)
            .execution_options(populate_existing=True)
        )
    )
    if not files and ready_piece_count(session, batch_id=batch_id):
        # Pieces to print but no file planned: the render was never prepared. (A batch whose every
        # piece was held has no file either, and is finished with an empty manifest.)
        raise RenderError(
            Message("batch %(batch_id)s has not been rendered: it must be rendered first", batch_id=batch_id)
        )
    missing = [f.file_name for f in files if f.status is not FileStatus.DONE or not (out_dir / f.file_name).exists()]
    if missing:
        raise FilesPending(f"{len(missing)} file(s) not rendered yet: {', '.join(missing[:5])}")
    manifest = out_dir / MANIFEST_NAME
    temporary = out_dir / f".{MANIFEST_NAME}.tmp"
    try:
        handle = open_private(temporary)
    except OSError as exc:
        raise _unwritable(out_dir, exc) from None
    with handle:
        write_csv(handle, MANIFEST_COLUMNS, _manifest_rows(session, batch_id=batch_id, files=files))
    os.replace(temporary, manifest)
    _write_holds(session, batch_id=batch_id, out_dir=out_dir)
    batch.status = BatchStatus.RENDERED
    batch.rendered_at = utcnow()
    session.flush()
    return manifest


def _manifest_rows(
    session: Session, *, batch_id: int, files: Sequence[BatchFile]
) -> Iterator[tuple[str, str, str, str, str, int]]:
    # Piece codes and file names are the app's own and never start like a formula, so they are written
    # exactly; a customer number (and the postal code of a country without a format) is escaped if it does.
    for batch_file in files:
        rows = session.execute(
            select(MailPiece.piece_code, Customer.customer_no, MailPiece.postal_code, MailPiece.bundle)
            .join(Customer, Customer.id == MailPiece.customer_id)
            .where(
                MailPiece.batch_id == batch_id,
                MailPiece.status == PieceStatus.READY,
                MailPiece.sequence.between(batch_file.first_sequence, batch_file.last_sequence),
            )
            .order_by(MailPiece.sequence)
        )
        for index, (code, customer_no, postal_code, bundle) in enumerate(rows):
            # Front and back are consecutive pages: the front of the n-th piece is page 2n-1.
            yield code, customer_no, postal_code, bundle, batch_file.file_name, 2 * index + 1


def _write_holds(session: Session, *, batch_id: int, out_dir: Path) -> None:
    held = session.execute(
        select(MailPiece.piece_code, Customer.customer_no, MailPiece.hold_reason)
        .join(Customer, Customer.id == MailPiece.customer_id)
        .where(MailPiece.batch_id == batch_id, MailPiece.status == PieceStatus.HELD)
        .order_by(MailPiece.sequence)
    ).all()
    path = out_dir / HOLDS_NAME
    if not held:
        path.unlink(missing_ok=True)
        return
    with open_private(path) as handle:
        write_csv(handle, ("piece_code", "customer_no", "reason"), held)


def ready_piece_count(session: Session, *, batch_id: int) -> int:
    """Count the pieces of a batch that go to print."""
    return session.scalar(
        select(func.count()).where(MailPiece.batch_id == batch_id, MailPiece.status == PieceStatus.READY)
    ) or 0
