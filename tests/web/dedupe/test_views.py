"""The duplicates pages: pairs side by side with differences highlighted, merging and undoing by POST,
marking pairs as not duplicates and taking the mark back."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mailer.audit.models import AuditEntry
from mailer.auth.models import Role
from mailer.customers.models import Customer, CustomerStatus
from mailer.dedupe.models import CustomerMerge, DismissedPair
from mailer.dedupe.stored import store_search
from mailer.web.dedupe import views
from tests.batches.test_jobs import private_render_queue
from tests.factories import CN_ROW, add_customer
from tests.web.conftest import data, post

HREF = re.compile(r'(?:href|action)="([^"]+)"')


def _row(page: str, label: str) -> str:
    """Return the table row of a compared field (the first pair's), opening tag included."""
    match = re.search(rf'<tr[^>]*>\s*<th scope="row">{label}\b.*?</tr>', page, re.S)
    assert match is not None, label
    return match.group(0)


def _customer(app: Flask, customer_no: str) -> tuple[int, CustomerStatus, int | None]:
    with data(app) as session:
        customer = session.scalar(select(Customer).where(Customer.customer_no == customer_no))
        assert customer is not None
        return customer.id, customer.status, customer.merged_into_id


def _audit(app: Flask, action: str) -> list[tuple[str, str | None, dict[str, object]]]:
    with data(app) as session:
        return [
            (entry.actor, entry.object_id, entry.detail)
            for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        ]


@pytest.fixture
def pair(app: Flask) -> None:
    """C001 and C002 are one person written two ways (name and email differ); C003 is someone else."""
    with data(app) as session:
        add_customer(session, "C001", name="John Smith", email="john@example.com", order_cents=[1000, 2000])
        add_customer(session, "C002", name="Jon Smith", email="jsmith@example.org", phone="217-555-0100",
                     order_cents=[500])
        add_customer(session, "C003", base=CN_ROW)
        store_search(session, actor="test")


@pytest.fixture
def marketing(logged_in) -> FlaskClient:  # type: ignore[no-untyped-def]
    return logged_in(Role.MARKETING)


def _merge(client: FlaskClient, survivor: str = "C001") -> object:
    return post(client, "/duplicates/merge", {"customer_no_a": "C001", "customer_no_b": "C002", "survivor": survivor})


def test_a_pair_is_shown_side_by_side_with_the_differing_fields_highlighted(
    app: Flask, marketing: FlaskClient, pair: None
) -> None:
    first_id, _, _ = _customer(app, "C001")
    second_id, _, _ = _customer(app, "C002")

    page = marketing.get("/duplicates").get_data(as_text=True)

    assert page.count('class="card dup-pair"') == 1  # C003 pairs with no one
    assert f'href="/customers/{first_id}">C001</a>' in page and f'href="/customers/{second_id}">C002</a>' in page
    assert 'class="differs"' in _row(page, "Name") and "Jon Smith" in _row(page, "Name")
    assert 'class="differs"' in _row(page, "Email")
    # The same number written with other punctuation, and the same address: not differences.
    assert 'class="differs"' not in _row(page, "Phone")
    assert 'class="differs"' not in _row(page, "Current address") and "12 Oak Street" in page
    assert re.findall(r"<td>(\d+)</td>", _row(page, "Orders")) == ["2", "1"]
    assert 'name="survivor" value="C001"' in page and 'name="survivor" value="C002"' in page
    assert "Only the best" not in page
    assert 'href="/duplicates" class="active"' in page


def test_merging_marks_the_other_customer_merged_and_audits_it(
    app: Flask, marketing: FlaskClient, pair: None
) -> None:
    response = _merge(marketing, survivor="C002")

    assert response.status_code == 302 and response.location == "/duplicates"  # type: ignore[attr-defined]
    survivor_id, survivor_status, _ = _customer(app, "C002")
    _, status, merged_into = _customer(app, "C001")
    assert status is CustomerStatus.MERGED and merged_into == survivor_id
    assert survivor_status is CustomerStatus.ACTIVE
    ((actor, object_id, detail),) = _audit(app, "customer.merge")
    assert actor == "marketing@example.com" and object_id == "C001" and detail["survivor"] == "C002"
    assert isinstance(detail["score"], float) and detail["score"] >= 88
    page = marketing.get("/duplicates").get_data(as_text=True)
    assert "Customer C001 is merged into C002." in page
    assert "dup-pair" not in page and "No likely duplicates" in page


def test_undoing_a_merge_restores_both_customers_and_audits_it(
    app: Flask, marketing: FlaskClient, pair: None
) -> None:
    _merge(marketing)
    with data(app) as session:
        merge_id = session.scalar(select(CustomerMerge.id))
    page = marketing.get("/duplicates/merges").get_data(as_text=True)
    assert f'name="merge_id" value="{merge_id}"' in page and "C002" in page

    response = post(marketing, "/duplicates/merges/undo", {"merge_id": merge_id})

    assert response.status_code == 302 and response.location == "/duplicates/merges"
    assert _customer(app, "C002")[1:] == (CustomerStatus.ACTIVE, None)
    ((actor, object_id, _),) = _audit(app, "customer.merge_undo")
    assert actor == "marketing@example.com" and object_id == "C002"
    page = marketing.get("/duplicates/merges").get_data(as_text=True)
    assert f"Merge {merge_id} is undone." in page and 'name="merge_id"' not in page and "undone" in page
    assert "dup-pair" in marketing.get("/duplicates").get_data(as_text=True)


def test_a_refused_merge_or_undo_changes_nothing_and_says_why(
    app: Flask, marketing: FlaskClient, pair: None
) -> None:
    _merge(marketing)
    # The page was stale: C002 is merged already.
    response = _merge(marketing, survivor="C002")
    assert response.status_code == 302  # type: ignore[attr-defined]
    page = marketing.get("/duplicates").get_data(as_text=True)
    assert "Nothing was merged: customer C002 is already merged into another customer." in page
    assert len(_audit(app, "customer.merge")) == 1
    assert _customer(app, "C001")[1] is CustomerStatus.ACTIVE

    post(marketing, "/duplicates/merges/undo", {"merge_id": 999_999})
    assert "Nothing was changed: no merge 999999." in marketing.get("/duplicates/merges").get_data(as_text=True)


def test_a_survivor_outside_the_pair_is_refused(app: Flask, marketing: FlaskClient, pair: None) -> None:
    response = post(
        marketing, "/duplicates/merge", {"customer_no_a": "C001", "customer_no_b": "C002", "survivor": "C003"}
    )
    assert response.status_code == 400
    assert _audit(app, "customer.merge") == []


def test_merging_and_undoing_need_the_csrf_token(app: Flask, marketing: FlaskClient, pair: None) -> None:
    response = marketing.post(
        "/duplicates/merge", data={"customer_no_a": "C001", "customer_no_b": "C002", "survivor": "C001"}
    )
    assert response.status_code == 400
    assert _customer(app, "C002")[1] is CustomerStatus.ACTIVE

    _merge(marketing)
    with data(app) as session:
        merge_id = session.scalar(select(CustomerMerge.id))
    assert marketing.post("/duplicates/merges/undo", data={"merge_id": merge_id}).status_code == 400
    assert _customer(app, "C002")[1] is CustomerStatus.MERGED
    with data(app) as session:
        undone = select(func.count()).select_from(CustomerMerge).where(CustomerMerge.undone_at.is_not(None))
        assert session.scalar(undone) == 0


def test_the_pairs_are_shown_a_page_at_a_time(
    app: Flask, marketing: FlaskClient, pair: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with data(app) as session:
        add_customer(session, "C004", base=CN_ROW)
        store_search(session, actor="test")
    monkeypatch.setattr(views, "PAIRS_PER_PAGE", 1)

    page = marketing.get("/duplicates").get_data(as_text=True)

    assert page.count('class="card dup-pair"') == 1
    assert "Likely duplicate pairs: 2," in page
    following = re.search(r'href="(/duplicates\?after=\d+)"', page)
    assert following is not None
    second = marketing.get(following.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('class="card dup-pair"') == 1 and "C003" in second and "C004" in second


def test_no_customer_data_travels_in_a_link(app: Flask, marketing: FlaskClient, pair: None) -> None:
    _merge(marketing)
    with data(app) as session:
        add_customer(session, "C004", base=CN_ROW)
        numbers_and_names = session.execute(select(Customer.customer_no, Customer.name)).all()

    for path in ("/duplicates", "/duplicates/merges"):
        for link in HREF.findall(marketing.get(path).get_data(as_text=True)):
            for number, name in numbers_and_names:
                assert number not in link and name not in link, link


def test_the_menu_offers_duplicates_to_marketing_only(logged_in) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/duplicates"' in logged_in(Role.MARKETING).get("/profile").get_data(as_text=True)
    assert 'href="/duplicates"' not in logged_in(Role.MAILROOM).get("/profile").get_data(as_text=True)


def _dismiss(client: FlaskClient, note: str | None = None) -> object:
    fields = {"customer_no_a": "C001", "customer_no_b": "C002"}
    return post(client, "/duplicates/dismiss", fields if note is None else {**fields, "note": note})


def test_a_pair_marked_not_a_duplicate_disappears_and_is_listed_to_restore(
    app: Flask, marketing: FlaskClient, pair: None
) -> None:
    page = marketing.get("/duplicates").get_data(as_text=True)
    # Its own form, so Enter in the note never presses a merge button.
    dismiss_form = page[page.index('action="/duplicates/dismiss"'):]
    dismiss_form = dismiss_form[:dismiss_form.index("</form>")]
    assert 'name="note"' in dismiss_form and "Not a duplicate" in dismiss_form and "survivor" not in dismiss_form
    assert "No pairs are marked as not duplicates." in page

    response = _dismiss(marketing, note="  father and son ")

    assert response.status_code == 302 and response.location == "/duplicates"  # type: ignore[attr-defined]
    ((actor, object_id, detail),) = _audit(app, "customer.pair_dismiss")
    assert actor == "marketing@example.com" and object_id == "C001" and detail["other"] == "C002"
    assert detail["note"] == "father and son"
    page = marketing.get("/duplicates").get_data(as_text=True)
    assert "Customers C001 and C002 are marked as not duplicates" in page
    assert '<td class="small">father and son</td>' in page
    assert "dup-pair" not in page and "No likely duplicates" in page
    assert "1 pairs scoring 90 or more are left out" in page
    assert 'action="/duplicates/restore"' in page and 'name="customer_no_b" value="C002"' in page
    assert _customer(app, "C002")[1] is CustomerStatus.ACTIVE

    response = post(marketing, "/duplicates/restore", {"customer_no_a": "C001", "customer_no_b": "C002"})

    assert response.status_code == 302 and response.location == "/duplicates"  # type: ignore[attr-defined]
    ((actor, object_id, _),) = _audit(app, "customer.pair_restore")
    assert actor == "marketing@example.com" and object_id == "C001"
    page = marketing.get("/duplicates").get_data(as_text=True)
    assert "Customers C001 and C002 may be offered as duplicates again." in page
    assert page.count('class="card dup-pair"') == 1 and 'action="/duplicates/restore"' not in page


def test_a_refused_dismiss_or_restore_says_why(app: Flask, marketing: FlaskClient, pair: None) -> None:
    post(marketing, "/duplicates/dismiss", {"customer_no_a": "C001", "customer_no_b": "C999"})
    assert "Nothing was changed: no customer C999." in marketing.get("/duplicates").get_data(as_text=True)
    post(marketing, "/duplicates/restore", {"customer_no_a": "C001", "customer_no_b": "C002"})
    page = marketing.get("/duplicates").get_data(as_text=True)
    assert "Nothing was changed: customers C001 and C002 are not marked as different people." in page
    assert _audit(app, "customer.pair_dismiss") == _audit(app, "customer.pair_restore") == []


def test_a_note_too_long_is_refused_by_name_and_nothing_is_marked(
    app: Flask, marketing: FlaskClient, pair: None
) -> None:
    response = _dismiss(marketing, note="x" * 501)
    assert response.status_code == 302  # type: ignore[attr-defined]
    page = marketing.get("/duplicates").get_data(as_text=True)
    assert "Nothing was changed: the note may have at most 500 characters." in page
    assert _audit(app, "customer.pair_dismiss") == []
    assert _dismiss(marketing, note="x" * 500).status_code == 302  # type: ignore[attr-defined]
    assert len(_audit(app, "customer.pair_dismiss")) == 1


def test_a_dismissed_pair_posted_for_a_merge_from_an_old_page_is_not_merged(
    app: Flask, marketing: FlaskClient, pair: None
) -> None:
    _dismiss(marketing)
    _merge(marketing)
    page = marketing.get("/duplicates").get_data(as_text=True)
    assert ("Nothing was merged: customers C001 and C002 are marked as different people "
            "(by marketing@example.com); take that mark back before merging them.") in page
    assert _customer(app, "C002")[1] is CustomerStatus.ACTIVE and _audit(app, "customer.merge") == []


def test_dismissing_and_restoring_need_the_csrf_token_and_both_customers(
    app: Flask, marketing: FlaskClient, pair: None
) -> None:
    fields = {"customer_no_a": "C001", "customer_no_b": "C002"}
    assert marketing.post("/duplicates/dismiss", data=fields).status_code == 400
    assert post(marketing, "/duplicates/dismiss", {"customer_no_a": "C001"}).status_code == 400
    with data(app) as session:
        assert session.scalar(select(func.count()).select_from(DismissedPair)) == 0
    _dismiss(marketing)
    assert marketing.post("/duplicates/restore", data=fields).status_code == 400
    with data(app) as session:
        assert session.scalar(select(func.count()).select_from(DismissedPair)) == 1


def test_dismissing_is_said_in_chinese(app: Flask, logged_in, pair: None) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MARKETING)
    post(client, "/profile", {"locale": "zh"})
    page = client.get("/duplicates").get_data(as_text=True)
    assert "不是重复客户" in page and "尚无标记为不是重复客户的客户对。" in page
    post(client, "/duplicates/restore", {"customer_no_a": "C001", "customer_no_b": "C002"})
    page = client.get("/duplicates").get_data(as_text=True)
    assert "未作任何更改：客户 C001 和 C002 未被标记为两个不同的人。" in page
    _dismiss(client)
    assert "客户 C001 和 C002 已标记为不是重复客户" in client.get("/duplicates").get_data(as_text=True)


def test_without_a_stored_search_the_page_offers_to_run_one_and_computes_nothing(
    app: Flask, marketing: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mailer.dedupe.service

    with data(app) as session:
        add_customer(session, "C001", name="John Smith")
        add_customer(session, "C002", name="Jon Smith")

    def no_search(*args: object, **kwargs: object) -> None:
        raise AssertionError("the page searched in the request")

    monkeypatch.setattr(mailer.dedupe.service, "find_pairs", no_search)
    monkeypatch.setattr(mailer.dedupe.service, "fit_matcher", no_search)
    page = marketing.get("/duplicates").get_data(as_text=True)
    assert "No duplicate search is stored yet." in page
    assert 'class="card dup-pair"' not in page and "Search all customers</button>" in page


def test_the_page_reads_the_stored_search_and_says_when_it_was_computed(
    app: Flask, marketing: FlaskClient, pair: None
) -> None:
    with data(app) as session:
        # A customer added after the search is not in it until the next one.
        add_customer(session, "C004", name="John Smyth", email="john@example.com")
    page = marketing.get("/duplicates").get_data(as_text=True)
    assert "Stored search of 3 customers, computed" in page
    assert page.count('class="card dup-pair"') == 1 and "C004" not in page
    assert 'class="pager"' in page


def test_the_search_button_queues_a_stored_search(
    app: Flask, marketing: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with private_render_queue() as queue:
        monkeypatch.setattr(views, "render_queue", lambda: queue)
        response = post(marketing, "/duplicates/search")
        assert response.status_code == 302 and response.location == "/duplicates"  # type: ignore[attr-defined]
        (job,) = queue.get_jobs()
        assert job.func_name == "mailer.dedupe.jobs.run_search" and job.kwargs["actor"] == "marketing@example.com"
        assert job.kwargs["database_url"] == ""  # the worker takes its own, password and all
        assert job.kwargs["full"] is True
        assert "The duplicate search is queued." in marketing.get("/duplicates").get_data(as_text=True)
        post(marketing, "/duplicates/search", {"scope": "new"})
        assert [job.kwargs["full"] for job in queue.get_jobs()] == [True, False]
        assert post(marketing, "/duplicates/search", {"scope": "everything"}).status_code == 400
