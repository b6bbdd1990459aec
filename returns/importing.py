"""Importing a postal returns file: one row per returned piece, with a forwarding address for moves."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from mailer.addresses.service import ADDRESS_FIELDS
from mailer.db import larger_sqlite_cache, utcnow
from mailer.imports import (
    ImportReport,
    ProgressCallback,
    Rejection,
    finish_import,
    open_csv,
    row_shape_problem,
)
from returns.acs import detect_layout
from returns.models import ReturnSource
from returns.service import (
    CHUNK_SIZE,
    DEFAULT_SOFT_RETURN_WINDOW_DAYS,
    ReturnError,
    ReturnOutcome,
    ReturnRequest,
    apply_returns,
    parse_returned_at,
    prepare_return,
)

# SQLite page cache while a file is imported, in KiB: the chunks' updates by id touch index pages all over.
SQLITE_CACHE_KIB = 256 * 1024
NEW_ADDRESS_PREFIX = "new_"
NEW_ADDRESS_COLUMNS = tuple(NEW_ADDRESS_PREFIX + f for f in ADDRESS_FIELDS)
REQUIRED_COLUMNS = ("piece_code", "reason", "returned_at")
RETURN_COLUMNS = (*REQUIRED_COLUMNS, *NEW_ADDRESS_COLUMNS)


def parse_return_row(values: dict[str, str], *, now: datetime) -> ReturnRequest | str:
    """Check one row of a returns file; return the request or why the row is rejected."""
    if problem := row_shape_problem(values, required=REQUIRED_COLUMNS):
        return problem
    try:
        return prepare_return(
            piece_code=values["piece_code"],
            reason=values["reason"],
            returned_at=parse_returned_at(values["returned_at"]),
            new_address=values,
            address_prefix=NEW_ADDRESS_PREFIX,
            now=now,
        )
    except ReturnError as exc:
        return str(exc)


def import_returns(
    session: Session,
    *,
    path: Path,
    actor: str,
    progress: ProgressCallback | None = None,
    window_days: int = DEFAULT_SOFT_RETURN_WINDOW_DAYS,
) -> ImportReport:
    """Import a returns CSV, or a USPS ACS file in either of its layouts: apply good rows, reject bad ones.

    Rejected rows go to a rejects file beside the input.

    A row already recorded (same piece and reason, or the same reason and date in the piece's
    history) counts as unchanged, so importing a file twice changes nothing the second time; a row
    that corrects an earlier reason counts as updated.
    """
    # The Postal Service's own ACS files (fixed-length or CSV) are recognised by their records.
    layout = detect_layout(path) if path.is_file() else None
    if layout is not None:
        from returns.acs_importing import import_acs

        return import_acs(session, path=path, layout=layout, actor=actor, window_days=window_days, progress=progress)
    source = open_csv(path, required=REQUIRED_COLUMNS, optional=NEW_ADDRESS_COLUMNS)
    report = ImportReport(path=path, total=source.row_count)
    now = utcnow()
    pending: list[tuple[int, dict[str, str], ReturnRequest]] = []
    # The chunks update customers, addresses and pieces by id all over their tables and indexes.
    with cycle_collection_paused(), larger_sqlite_cache(session, kib=SQLITE_CACHE_KIB):
        for row, values in source.rows():
            parsed = parse_return_row(values, now=now)
            if isinstance(parsed, str):
                report.rejected.append(Rejection(row=row, reason=parsed, values=values))
                if progress:
                    progress(1, report.total)
            else:
                pending.append((row, values, parsed))
            if len(pending) >= CHUNK_SIZE:
                _apply(
                    session, pending, report=report, actor=actor, window_days=window_days, now=now,
                    progress=progress,
                )
                pending = []
        if pending:
            _apply(session, pending, report=report, actor=actor, window_days=window_days, now=now, progress=progress)

    finish_import(session, report, columns=source.columns, action="returns.import", actor=actor)
    return report


def _apply(
    session: Session,
    pending: Sequence[tuple[int, dict[str, str], ReturnRequest]],
    *,
    report: ImportReport,
    actor: str,
    window_days: int,
    now: datetime,
    progress: ProgressCallback | None,
) -> None:
    apply_postal_returns(session, pending, report=report, actor=actor, window_days=window_days, now=now)
    if progress:
        progress(len(pending), report.total)


def apply_postal_returns(
    session: Session,
    requests: Sequence[tuple[int, dict[str, str], ReturnRequest]],
    *,
    report: ImportReport,
    actor: str,
    window_days: int,
    now: datetime,
) -> list[ReturnOutcome | None]:
    """Record a chunk of a postal file's returns, counting each outcome or rejecting its row.

    Return each row's outcome, None where the row was rejected.
    """
    results = apply_returns(
        session, [request for _, _, request in requests], source=ReturnSource.POSTAL_FILE, actor=actor,
        window_days=window_days, now=now,
    )
    outcomes: list[ReturnOutcome | None] = []
    for (row, values, _), result in zip(requests, results, strict=True):
        if isinstance(result, ReturnError):
            report.rejected.append(Rejection(row=row, reason=str(result), values=values))
            outcomes.append(None)
        else:
            count_outcome(report, result)
            outcomes.append(result)
    return outcomes


def count_outcome(report: ImportReport, outcome: ReturnOutcome) -> None:
    """Count a recorded return as created, updated (a corrected reason) or unchanged (already recorded)."""
    if outcome.already_recorded:
        report.unchanged += 1
    elif outcome.corrected:
        report.updated += 1
    else:
        report.created += 1


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    # Each chunk holds some 100,000 small containers until it is written, and the cyclic collector
    # would walk every object of the process again and again while they pile up (a third of the
    # import's time). Reference counting frees every chunk (the import makes next to no cycles);
    # the collector resumes when the rows are applied.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
