"""``init`` on a fresh database: schema through migrations and an admin login."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, select

from mailer import create_app
from mailer.auth.models import Role, User
from mailer.auth.service import verify_password
from mailer.db import db


def test_init_migrates_a_fresh_database_and_creates_the_admin(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}", "SECRET_KEY": "x"})
    runner = app.test_cli_runner()

    first = runner.invoke(args=["init", "--admin-email", "Boss@Example.com"])
    second = runner.invoke(args=["init", "--admin-email", "boss@example.com"])

    assert first.exit_code == 0, first.output
    password = first.stdout.split("Admin login: boss@example.com / ")[1].split()[0]
    assert second.exit_code == 0 and "password unchanged" in second.stdout
    with app.app_context():
        assert {"customers", "addresses", "address_events", "orders", "users", "audit_log"} <= set(
            inspect(db.engine).get_table_names()
        )
        admin = db.session.scalar(select(User))
        assert admin is not None and admin.role is Role.ADMIN and verify_password(admin, password)
        db.engine.dispose()


def test_init_takes_the_password_from_the_environment(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAILER_ADMIN_PASSWORD", "correct horse battery")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}", "SECRET_KEY": "x"})

    result = app.test_cli_runner().invoke(args=["init"])

    assert result.exit_code == 0 and "correct horse" not in result.stdout
    with app.app_context():
        admin = db.session.scalar(select(User))
        assert admin is not None and verify_password(admin, "correct horse battery")
        db.engine.dispose()


def test_demo_loads_customers_orders_and_renders_a_batch_per_profile(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "SECRET_KEY": "x"})
    app.instance_path = str(tmp_path / "instance")

    result = app.test_cli_runner().invoke(args=["demo", "--customers", "150"])

    assert result.exit_code == 0, result.output
    assert "Admin login: admin@example.com / " in result.stdout
    assert "customers.csv: 150 created" in result.stdout
    assert "Churn risk (chance of no order within 365 days) scored for 150 customers" in result.stdout
    manifests = sorted((tmp_path / "instance" / "demo" / "batches").glob("*/manifest.csv"))
    assert [m.parent.name.split("-", 2)[2] for m in manifests] == ["cn-dl", "us-10"]
    for manifest in manifests:
        rows = manifest.read_text(encoding="utf-8").splitlines()
        assert rows[0] == '"piece_code","customer_no","postal_code","bundle","file","page"' and len(rows) > 20
        assert list(manifest.parent.glob("*.pdf"))
    with app.app_context():
        db.engine.dispose()


def test_init_with_a_password_says_it_created_the_admin_and_later_that_it_changed_nothing(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}", "SECRET_KEY": "x"})
    runner = app.test_cli_runner()

    first = runner.invoke(args=["init", "--admin-password", "correct horse battery"])
    second = runner.invoke(args=["init", "--admin-password", "another horse battery"])

    assert first.exit_code == 0, first.output
    assert "Admin login: admin@example.com (new admin user; password as given)" in first.stdout
    assert "existing user" not in first.stdout and "correct horse" not in first.stdout
    assert second.exit_code == 0, second.output
    assert (
        "Admin login: admin@example.com (existing user; password unchanged; the given password was not applied)"
        in second.stdout
    )
    with app.app_context():
        admin = db.session.scalar(select(User))
        assert admin is not None and verify_password(admin, "correct horse battery")
        db.engine.dispose()


def test_init_names_the_role_of_an_existing_user_that_is_no_admin(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}", "SECRET_KEY": "x"})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    with app.app_context():
        db.session.scalar(select(User)).role = Role.MAILROOM  # type: ignore[union-attr]
        db.session.commit()

    again = runner.invoke(args=["init"])

    assert again.exit_code == 0, again.output
    assert "Admin login: admin@example.com (existing user, role mailroom; password unchanged)" in again.stdout
    with app.app_context():
        assert db.session.scalar(select(User.role)) is Role.MAILROOM
        db.engine.dispose()
