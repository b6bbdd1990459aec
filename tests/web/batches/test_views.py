"""The campaign list, the batch form and page, renders on the queue, progress and downloads."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from uuid import uuid4

from flask import Flask
from flask.testing import FlaskClient
from rq import Worker
from sqlalchemy import select
from werkzeug.test import TestResponse

from mailer.addresses.models import AddressValidity
from mailer.audit.models import AuditEntry
from mailer.auth.models import Role
from mailer.batches.models import Batch, BatchStatus, Campaign
from mailer.customers.models import CustomerStatus
from mailer.db import db
from tests.batches.test_jobs import make_unfit_batch, run_worker
from tests.batches.test_rendering import make_batch
from tests.batches.test_service import mark_rendered, new_batch, pieces_of, returned
from tests.factories import CN_ROW, US_ROW, add_customer
from tests.web.batches.conftest import RenderSite
from tests.web.conftest import data, post


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def download(client: FlaskClient, url: str) -> TestResponse:
    """Fetch a file, closing it once read (a sent file stays open until then)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def left_out(page: str, reason: str) -> int:
    found = re.search(rf"<td>{reason}</td><td class=\"num\">(\d+)</td>", page)
    assert found, reason
    return int(found.group(1))


def test_the_batch_form_selects_recipients_and_shows_who_was_left_out(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        add_customer(session, "C001", base=US_ROW)
        add_customer(session, "C002", base=US_ROW, line1="2 Elm Street", status=CustomerStatus.DECEASED)
        add_customer(session, "C003", base=US_ROW, line1="3 Elm Street", status=CustomerStatus.DO_NOT_MAIL)
        add_customer(session, "C004", base=US_ROW, line1="4 Elm Street", validity=AddressValidity.UNDELIVERABLE)
        add_customer(session, "C005", base=US_ROW, name="Jane Smith")  # C001's household
        add_customer(session, "C006", base=CN_ROW)  # not in the envelope's country
        add_customer(session, "C007", base=US_ROW, line1="7 Pine Street", region="CA", postal_code="94105")
    client = logged_in(Role.MARKETING)
    assert "Select recipients" in text(client.get("/batches/new"))

    response = post(client, "/batches/new", {"campaign": "Spring catalog 2027", "profile": "us-10", "regions": "IL"})

    assert response.status_code == 302
    page = text(client.get(response.location))
    assert "Batch " in page and "created: 1 pieces." in page and "Spring catalog 2027" in page
    assert left_out(page, "outside the filters") == 2
    assert left_out(page, "deceased") == 1 and left_out(page, "do not mail") == 1
    assert left_out(page, "undeliverable address") == 1 and left_out(page, "same household as another piece") == 1
    assert left_out(page, "merged into another customer") == 0
    assert "<dt>Regions</dt><dd>IL</dd>" in page and "<dt>Countries</dt><dd>US</dd>" in page
    assert ">C001</a>" in page and ">C005</a>" not in page
    assert "Render the print files" in page
    with app.app_context():
        batch = db.session.scalars(select(Batch)).one()
        assert batch.created_by == "marketing@example.com" and batch.filters["regions"] == ["IL"]
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.create")).one()
        assert entry.object_id == str(batch.id) and entry.detail["left_out"]["household"] == 1


def test_the_batch_form_refuses_what_it_cannot_select(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MARKETING)

    no_name = post(client, "/batches/new", {"campaign": " ", "profile": "us-10"})
    bad_country = post(client, "/batches/new", {"campaign": "Spring", "profile": "us-10", "countries": "USA"})
    bad_band = post(client, "/batches/new", {"campaign": "Spring", "profile": "us-10", "risk_bands": "extreme"})

    assert no_name.status_code == 400
    assert bad_country.status_code == 400 and "Use two-letter country codes such as CN or US." in text(bad_country)
    assert bad_band.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(Batch)).all() == []


def test_the_batch_form_says_why_it_selects_nobody_and_shows_a_bad_choice(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        add_customer(session, "C001", base=US_ROW)
    client = logged_in(Role.MARKETING)

    nowhere = post(client, "/batches/new", {"campaign": "Spring", "profile": "us-10", "regions": "Nowhere"})
    unknown = post(client, "/batches/new", {"campaign": "Spring", "profile": "us-10", "countries": "US, ZZ"})
    bogus = post(client, "/batches/new", {"campaign": "Spring", "profile": "us-10", "risk_bands": "bogus"})

    assert nowhere.status_code == 400
    assert "No customer matches the filters, so no batch was created. Left out: 1 outside the filters." in text(
        nowhere
    )
    assert unknown.status_code == 400
    assert "No country has the code ZZ. Use two-letter country codes such as CN or US." in text(unknown)
    assert bogus.status_code == 400
    page = text(bogus)
    errors = page[page.index("Churn risk"):page.index("None ticked")]
    assert '<ul class="errors">' in errors and "bogus" in errors and "not a valid choice" in errors
    with app.app_context():
        assert db.session.scalars(select(Batch)).all() == []


def test_the_campaign_list_and_the_dashboard_show_return_rates(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        batch = new_batch(session, range(1, 6))
        mark_rendered(session, batch, held=1)
        first, second = pieces_of(session, batch)[1:3]
        returned(session, first, "NSN", corrects=returned(session, first, "VAC"))
        returned(session, second, "UNC")
        new_batch(session, range(10, 12), campaign="Autumn 2027")
    client = logged_in(Role.MARKETING)

    page = text(client.get("/campaigns"))
    dashboard = text(client.get("/dashboard"))

    assert page.index("Autumn 2027") < page.index("Spring 2027")  # newest first
    assert "Return rate: 50.0%" in page and "2 of 4 mailed pieces came back at least once" in page
    assert "Nothing mailed yet" in page
    assert re.search(rf'href="/batches/{batch.id}">Batch {batch.id}</a>.*?>5</td>\s*<td class="num">1</td>'
                     r'\s*<td class="num">2</td>', page, re.S)
    chart = re.search(r'<svg class="chart"[^>]*aria-label="Return rate per campaign">.*?</svg>', dashboard, re.S)
    assert chart and ">Spring 2027</text>" in chart.group(0) and ">50.0%</text>" in chart.group(0)
    assert "Autumn 2027" not in chart.group(0)  # nothing mailed: no rate to draw


def test_the_campaign_list_downloads_a_campaigns_results_named_after_it(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        batch = new_batch(session, range(1, 6), campaign="春季目录 2027")
        mark_rendered(session, batch, held=1)
        first, second = pieces_of(session, batch)[1:3]
        returned(session, first, "NSN", corrects=returned(session, first, "VAC"))
        returned(session, second, "UNC")
        campaign_id = batch.campaign_id
    client = logged_in(Role.MARKETING)

    page = text(client.get("/campaigns"))
    response = client.get(f"/campaigns/{campaign_id}/results.csv")

    assert f'href="/campaigns/{campaign_id}/results.csv"' in page
    assert response.status_code == 200 and response.mimetype == "text/csv"
    # A name in any script, as browsers read it (RFC 6266).
    assert "filename*=UTF-8''%E6%98%A5%E5%AD%A3%E7%9B%AE%E5%BD%95-2027-results.csv" in (
        response.headers["Content-Disposition"]
    )
    assert response.data.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [row["batch"] for row in rows] == [str(batch.id), "total"]
    assert (rows[0]["mailed"], rows[0]["returned"], rows[0]["returned_NSN"], rows[0]["returned_UNC"]) == (
        "4", "2", "1", "1"
    )
    assert rows[0]["returned_VAC"] == "0"  # corrected to NSN
    assert rows[1]["return_rate"] == "0.5000" and rows[1]["campaign"] == "春季目录 2027"
    assert client.get(f"/campaigns/{campaign_id + 1}/results.csv").status_code == 404
    with data(app) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "campaign.export")).one()
        assert entry.detail == {"campaign": "春季目录 2027", "batches": 1, "file": "春季目录-2027-results.csv"}


def test_the_campaign_list_starts_empty_and_the_dashboard_says_so(logged_in) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MARKETING)
    assert "No campaign yet." in text(client.get("/campaigns"))
    assert "No campaign has mailed pieces yet." in text(client.get("/dashboard"))


def test_the_batch_page_lists_pieces_a_page_at_a_time(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        batch = new_batch(session, range(1, 61))
    client = logged_in(Role.MARKETING)

    first = text(client.get(f"/batches/{batch.id}"))
    second = text(client.get(f"/batches/{batch.id}?after=50"))

    assert first.count('href="/customers/') == 50 and f'href="/batches/{batch.id}?after=50"' in first
    assert second.count('href="/customers/') == 10 and f'href="/batches/{batch.id}?before=51"' in second
    assert client.get(f"/batches/{batch.id + 1000}").status_code == 404


def test_a_render_is_not_started_when_the_queue_is_unreachable(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    app.config.update(REDIS_URL="redis://127.0.0.1:1/0", PUBLIC_BASE_URL="https://mail.example.com")
    with data(app) as session:
        batch = new_batch(session, range(1, 3))
    client = logged_in(Role.MARKETING)

    response = post(client, f"/batches/{batch.id}/render", follow_redirects=True)

    assert "The render queue cannot be reached." in text(response)
    with app.app_context():
        assert db.session.get_one(Batch, batch.id).status is BatchStatus.SELECTED
    assert client.get(f"/batches/{batch.id}/files/1").status_code == 404
    assert client.get(f"/batches/{batch.id}/manifest.csv").status_code == 404


def _progress(client: FlaskClient, batch_id: int) -> dict[str, object]:
    response = client.get(f"/batches/{batch_id}/progress")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_a_render_runs_on_the_queue_and_its_files_download_with_an_audit_row(render_site: RenderSite) -> None:
    batch_id = make_batch(render_site.app, 5, base=US_ROW, profile="us-10")
    client = render_site.client()

    started = post(client, f"/batches/{batch_id}/render", follow_redirects=True)

    assert "The render is queued." in text(started)
    assert 'id="render-progress"' in text(started) and "/static/batch-progress.js" in text(started)
    assert "Render the print files" not in text(started)
    # Nobody listens on the private queue yet: the page and its progress say so.
    assert _progress(client, batch_id) == {
        "status": "rendering", "files_done": 0, "files_total": 0, "pieces_done": 0, "pieces_total": 5,
        "done": False, "error": None, "workers": 0,
    }
    assert re.search(r'data-role="no-worker">No render worker is listening on the queue', text(started))
    again = post(client, f"/batches/{batch_id}/render", follow_redirects=True)
    assert "This batch cannot be rendered now" in text(again)
    assert len(render_site.queue) == 1

    run_worker(render_site.queue)

    assert _progress(client, batch_id) == {
        "status": "rendered", "files_done": 3, "files_total": 3, "pieces_done": 5, "pieces_total": 5,
        "done": True, "error": None, "workers": None,
    }
    page = text(client.get(f"/batches/{batch_id}"))
    assert 'id="render-progress"' not in page
    for file_no in (1, 2, 3):
        assert f'href="/batches/{batch_id}/files/{file_no}"' in page
    assert f'href="/batches/{batch_id}/manifest.csv"' in page and "held.csv" not in page

    pdf = download(client, f"/batches/{batch_id}/files/2")
    manifest = download(client, f"/batches/{batch_id}/manifest.csv")

    folder = Path(render_site.app.config["BATCH_OUTPUT_DIR"]) / str(batch_id)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and pdf.data == (folder / f"batch-{batch_id}-0002.pdf").read_bytes()
    # Named after the campaign and the batch.
    assert pdf.headers["Content-Disposition"] == f"attachment; filename=spring-batch-{batch_id}-0002.pdf"
    assert manifest.headers["Content-Disposition"] == f"attachment; filename=spring-batch-{batch_id}-manifest.csv"
    assert manifest.data.startswith(codecs.BOM_UTF8)
    assert pdf.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(manifest.get_data().decode("utf-8-sig"))))
    assert manifest.status_code == 200 and len(rows) == 5 and rows[2]["file"] == f"batch-{batch_id}-0002.pdf"
    assert client.get(f"/batches/{batch_id}/held.csv").status_code == 404
    assert client.get(f"/batches/{batch_id}/files/4").status_code == 404
    with render_site.app.app_context():
        downloads = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.download")).all()
        assert [(d.actor, d.object_id, d.detail["file"]) for d in downloads] == [
            ("marketing@example.com", str(batch_id), f"batch-{batch_id}-0002.pdf"),
            ("marketing@example.com", str(batch_id), "manifest.csv"),
        ]


def test_a_listening_worker_hides_the_warning(render_site: RenderSite) -> None:
    batch_id = make_batch(render_site.app, 2, base=US_ROW, profile="us-10")
    client = render_site.client()
    worker = Worker([render_site.queue], connection=render_site.queue.connection, name=f"test-{uuid4().hex[:8]}")
    worker.register_birth()
    try:
        started = post(client, f"/batches/{batch_id}/render", follow_redirects=True)
        assert _progress(client, batch_id)["workers"] == 1
    finally:
        worker.register_death()
    assert re.search(r'data-role="no-worker" hidden>', text(started))
    assert _progress(client, batch_id)["workers"] == 0


def test_a_refused_render_is_shown_on_the_page_and_holding_the_unfit_pieces_renders_the_rest(
    render_site: RenderSite,
) -> None:
    batch_id = make_unfit_batch(render_site.app)
    client = render_site.client()

    post(client, f"/batches/{batch_id}/render")
    run_worker(render_site.queue)

    progress = _progress(client, batch_id)
    assert progress["status"] == "selected" and not progress["done"]
    assert str(progress["error"]).startswith("1 piece(s) do not fit their envelope")
    page = text(client.get(f"/batches/{batch_id}"))
    assert "The last render stopped." in page and "1 piece(s) do not fit their envelope" in page
    assert "mm wide" in page and "Render the print files" in page
    post(client, "/profile", {"locale": "zh"})
    page = text(client.get(f"/batches/{batch_id}"))
    assert "1 封邮件排不进信封；没有生成任何文件。" in page and "毫米" in page and "mm wide" not in page
    post(client, "/profile", {"locale": "en"})

    post(client, f"/batches/{batch_id}/render", {"hold_unfit": "y"})
    run_worker(render_site.queue)

    page = text(client.get(f"/batches/{batch_id}"))
    assert "The last render stopped." not in page
    assert "Held pieces" in page and "mm wide" in page and ">C002</a>" in page
    post(client, "/profile", {"locale": "zh"})
    held_page = text(client.get(f"/batches/{batch_id}"))
    assert "第 1 行：" in held_page and "毫米" in held_page and "mm wide" not in held_page
    post(client, "/profile", {"locale": "en"})
    held = download(client, f"/batches/{batch_id}/held.csv")
    assert held.status_code == 200 and "C002" in held.get_data(as_text=True)
    assert _progress(client, batch_id)["done"] is True


def test_spaces_around_a_campaign_name_do_not_count_against_its_length(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        add_customer(session, "C900", base=US_ROW)
    name = " " * 5 + "N" * 200
    response = post(logged_in(Role.MARKETING), "/batches/new", {"campaign": name, "profile": "us-10"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with data(app) as session:
        assert session.scalar(select(Campaign.name).where(Campaign.name == "N" * 200)) is not None


def test_a_render_whose_update_links_would_not_open_is_refused_on_the_batch_page(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    app.config["PUBLIC_BASE_URL"] = "http://localhost:5000"
    with data(app) as session:
        batch = new_batch(session, range(1, 3))
    client = logged_in(Role.MARKETING)

    response = post(client, f"/batches/{batch.id}/render", follow_redirects=True)

    assert "This batch cannot be rendered: the update links would point at http://localhost:5000" in text(response)
    assert "PUBLIC_BASE_URL" in text(response)
    with app.app_context():
        assert db.session.get_one(Batch, batch.id).status is BatchStatus.SELECTED


def test_a_second_batch_leaves_out_the_campaigns_customers_unless_remail_is_ticked(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        new_batch(session, range(1, 4), campaign="Spring catalog 2027")
    client = logged_in(Role.MARKETING)
    form = {"campaign": "Spring catalog 2027", "profile": "us-10"}
    assert "Also mail customers already in a batch of this campaign" in text(client.get("/batches/new"))

    refused = post(client, "/batches/new", form)
    remailed = post(client, "/batches/new", {**form, "remail": "y"})

    assert refused.status_code == 400
    assert "Left out: 3 already in a batch of this campaign." in text(refused)
    assert remailed.status_code == 302
    page = text(client.get(remailed.location))
    assert "created: 3 pieces." in page and left_out(page, "already in a batch of this campaign") == 0


def test_marketing_cancels_a_batch_not_yet_rendered_and_its_customers_are_free_again(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        batch = new_batch(session, range(1, 3), campaign="Spring catalog 2027")
    client = logged_in(Role.MARKETING)
    assert 'id="cancel-batch"' in text(client.get(f"/batches/{batch.id}"))
    assert client.post(f"/batches/{batch.id}/cancel").status_code == 400  # no CSRF token

    response = post(client, f"/batches/{batch.id}/cancel", follow_redirects=True)

    page = text(response)
    assert f"Batch {batch.id} is cancelled: it will not be printed." in page
    assert "This batch is cancelled" in page and 'id="cancel-batch"' not in page
    assert "Render the print files" not in page
    with app.app_context():
        assert db.session.get_one(Batch, batch.id).status is BatchStatus.CANCELLED
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.cancel")).one()
        assert (entry.object_id, entry.actor, entry.detail["pieces"]) == (str(batch.id), "marketing@example.com", 2)
    app.config["PUBLIC_BASE_URL"] = "https://mail.example.com"
    again = post(client, f"/batches/{batch.id}/render", follow_redirects=True)
    assert "This batch is cancelled: it cannot be rendered." in text(again)
    created = post(client, "/batches/new", {"campaign": "Spring catalog 2027", "profile": "us-10"})
    assert created.status_code == 302 and "created: 2 pieces." in text(client.get(created.location))
    assert post(client, f"/batches/{batch.id + 1000}/cancel").status_code == 404


def test_a_rendered_batch_cannot_be_cancelled(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        batch = new_batch(session, range(1, 3))
        mark_rendered(session, batch)
    client = logged_in(Role.MARKETING)
    assert 'id="cancel-batch"' not in text(client.get(f"/batches/{batch.id}"))

    response = post(client, f"/batches/{batch.id}/cancel", follow_redirects=True)

    assert "This batch cannot be cancelled: its render has started." in text(response)
    with app.app_context():
        assert db.session.get_one(Batch, batch.id).status is BatchStatus.RENDERED
        assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.cancel")).all()
