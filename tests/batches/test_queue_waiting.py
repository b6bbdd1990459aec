"""A queued render says how many files are done, and says plainly when no worker listens on its queue."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from uuid import uuid4

from flask import Flask
from rq import Queue, Worker

from mailer import PROJECT_ROOT
from mailer.batches.jobs import no_worker_notice, render_settings, wait_for_jobs, workers_listening
from mailer.batches.rendering import enqueue_files, prepare_render
from mailer.db import db
from tests.batches.test_jobs import TEST_REDIS_URL, private_render_queue, run_worker
from tests.batches.test_rendering import make_batch, manifest_rows


def _queued_files(app: Flask, queue: Queue, out: Path, pieces: int, per_file: int) -> list[str]:
    batch_id = make_batch(app, pieces)
    with app.app_context():
        settings = render_settings(out)
        pending = prepare_render(db.session, batch_id=batch_id, settings=settings, pieces_per_file=per_file,
                                 actor="t")
        db.session.commit()
        return enqueue_files(settings, [f.id for f in pending], queue=queue)


def test_workers_listening_counts_the_workers_of_that_queue_only() -> None:
    with private_render_queue() as queue, private_render_queue() as other:
        assert workers_listening(queue) == 0
        worker = Worker([queue], connection=queue.connection, name=f"test-{uuid4().hex[:8]}")
        worker.register_birth()
        try:
            assert workers_listening(queue) == 1 and workers_listening(other) == 0
        finally:
            worker.register_death()
        assert workers_listening(queue) == 0


def test_waiting_says_nobody_listens_then_counts_the_files_done(committed_app: Flask, tmp_path: Path) -> None:
    with private_render_queue() as queue:
        jobs = _queued_files(committed_app, queue, tmp_path / "out", pieces=4, per_file=2)
        notices: list[str] = []
        done: list[tuple[int, int]] = []
        pieces: list[int] = []
        heard = threading.Event()

        def notice(text: str) -> None:
            notices.append(text)
            heard.set()

        waiter = threading.Thread(target=wait_for_jobs, args=(queue, jobs), kwargs={
            "progress": pieces.append, "files_done": lambda d, t: done.append((d, t)), "notice": notice,
            "poll_seconds": 0.05, "worker_check_seconds": 0.1, "timeout_seconds": 3.0,
        })
        waiter.start()
        # Nobody listens: said at once, and the wait does not time out while nobody could have rendered.
        assert heard.wait(10)
        waiter.join(5.0)
        assert waiter.is_alive()
        assert notices == [str(no_worker_notice(queue))]
        assert queue.name in notices[0] and "rq worker" in notices[0]
        run_worker(queue)
        waiter.join(30)
        assert not waiter.is_alive()
    assert done == [(1, 2), (2, 2)] and sum(pieces) == 4


def test_render_queue_no_wait_warns_when_no_worker_listens(committed_app: Flask, tmp_path: Path) -> None:
    batch_id = make_batch(committed_app, 2)
    with private_render_queue() as queue:
        committed_app.config.update(REDIS_URL=TEST_REDIS_URL, RENDER_QUEUE=queue.name)
        result = committed_app.test_cli_runner().invoke(
            args=["batch", "render", str(batch_id), "--out", str(tmp_path / "out"), "--queue", "--no-wait"]
        )
        assert result.exit_code == 0, result.output
        assert f"no render worker is listening on the queue '{queue.name}'" in result.output
        assert f"batch finish {batch_id}" in result.output

        worker = Worker([queue], connection=queue.connection, name=f"test-{uuid4().hex[:8]}")
        worker.register_birth()
        try:
            again = committed_app.test_cli_runner().invoke(
                args=["batch", "render", str(batch_id), "--out", str(tmp_path / "out"), "--queue", "--no-wait"]
            )
        finally:
            worker.register_death()
        assert again.exit_code == 0, again.output
        assert "no render worker" not in again.output


def test_render_queue_waits_aloud_until_a_worker_renders_the_files(committed_app: Flask, tmp_path: Path) -> None:
    batch_id = make_batch(committed_app, 5)
    out = tmp_path / "out"
    with private_render_queue() as queue:
        environment = {
            **os.environ, "PYTHONPATH": str(PROJECT_ROOT), "DATABASE_URL": committed_app.config["DATABASE_URL"],
            "SECRET_KEY": "render-secret", "PUBLIC_BASE_URL": "https://mail.example.com",
            "REDIS_URL": TEST_REDIS_URL, "RENDER_QUEUE": queue.name,
        }
        command = subprocess.Popen(
            [sys.executable, "-m", "mailer", "batch", "render", str(batch_id), "--out", str(out), "--queue",
             "--pieces-per-file", "2"],
            cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            assert command.stderr is not None
            said: list[str] = []
            for line in command.stderr:
                said.append(line)
                if "no render worker is listening" in line:
                    break
            assert any(f"queue '{queue.name}'" in line for line in said), said
            worker = subprocess.run(
                [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", TEST_REDIS_URL, queue.name],
                cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=300,
            )
            assert worker.returncode == 0, worker.stderr
            rest, later = command.communicate(timeout=120)
            errors = "".join(said) + later
        finally:
            if command.poll() is None:
                command.kill()
                command.wait()
    assert command.returncode == 0, errors
    assert "3 of 3 files done" in errors
    assert f"Batch {batch_id} rendered" in rest
    assert len(manifest_rows(out)) == 5
