"""English and Simplified Chinese: who gets which, and catalogs that are complete and compiled."""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from mailer import PROJECT_ROOT
from mailer.auth.models import Role
from mailer.messages import Message
from mailer.web.i18n import labelled_states
from tests.web.conftest import import_demo_customers, post

CATALOGS = PROJECT_ROOT / "mailer" / "translations"
ZH_PO = CATALOGS / "zh" / "LC_MESSAGES" / "messages.po"
ZH_MO = ZH_PO.with_suffix(".mo")
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def test_a_stranger_gets_the_browsers_language(client: FlaskClient) -> None:
    chinese = client.get("/login", headers=CHINESE).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in chinese
    assert "<title>登录 · mailer</title>" in chinese and "电子邮箱" in chinese and "密码" in chinese
    english = client.get("/login", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="en">' in english and "Password" in english and "密码" not in english
    # A language we do not have falls back to English.
    assert "Password" in client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)


def test_staff_get_the_language_of_their_profile_whatever_the_browser(
    app: Flask, logged_in, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    import_demo_customers(app, tmp_path, 3)
    client = logged_in(Role.MARKETING)
    assert "Customer no." in client.get("/customers", headers=ENGLISH).get_data(as_text=True)
    post(client, "/profile", {"locale": "zh"})
    page = client.get("/customers", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page
    for text in ("客户", "概览", "导入", "客户编号", "未验证", "正常", "下一页", "退出"):
        assert text in page, text
    dashboard = client.get("/dashboard", headers=ENGLISH).get_data(as_text=True)
    assert "按状态统计的客户" in dashboard and "无法投递" in dashboard

    post(client, "/profile", {"locale": "en"})
    page = client.get("/customers", headers=CHINESE).get_data(as_text=True)
    assert '<html lang="en">' in page and "unverified" in page and "未验证" not in page


def test_dates_and_errors_follow_the_language(app: Flask, client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers=CHINESE)
    assert response.status_code == 404 and "页面不存在。" in response.get_data(as_text=True)
    with app.test_request_context(headers=CHINESE):
        from datetime import UTC, datetime

        template = app.jinja_env.from_string("{{ when|date }}")
        assert template.render(when=datetime(2026, 3, 9, tzinfo=UTC)) == "2026年3月9日"


def test_every_stored_state_has_a_label() -> None:
    for states, labels in labelled_states().items():
        assert set(labels) == set(states), f"label every {states.__name__} in mailer/web/i18n.py"


def test_every_text_of_the_code_and_templates_is_translated() -> None:
    method_map, options_map = parse_mapping_cfg(io.StringIO((PROJECT_ROOT / "babel.cfg").read_text()))
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "Message": None}
    in_code = {
        message for _, _, message, _, _ in extract_from_dir(str(PROJECT_ROOT), method_map, options_map, keywords)
    }
    with ZH_PO.open("rb") as handle:
        catalog = read_po(handle, locale="zh")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(str(m) for m in in_code - translated)
    assert not missing, f"run scripts/compile_translations.sh --update and translate: {missing}"


def test_the_compiled_catalog_matches_its_source() -> None:
    with ZH_PO.open("rb") as handle:
        catalog = read_po(handle, locale="zh")
    expected = io.BytesIO()
    write_mo(expected, catalog)
    expected.seek(0)
    with ZH_MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    source = gettext.GNUTranslations(expected)
    # The header ("") names the Babel version that wrote it, which is not ours to pin.
    compiled_messages = {k: v for k, v in compiled._catalog.items() if k != ""}  # type: ignore[attr-defined]
    source_messages = {k: v for k, v in source._catalog.items() if k != ""}  # type: ignore[attr-defined]
    assert compiled_messages == source_messages, "run scripts/compile_translations.sh and commit the .mo"



def test_a_services_message_is_said_in_the_pages_language(app: Flask) -> None:
    from mailer.addresses.service import clean_address
    from mailer.auth.service import UserError
    from mailer.web.i18n import say

    problem = clean_address({"line1": "1 Main St", "city": "Springfield", "postal_code": "6270", "country": "US"})
    assert problem == "postal code '6270' does not fit US: US ZIP codes are 12345 or 12345-6789"
    with app.test_request_context(headers=CHINESE):
        # The nested reason is translated too.
        assert say(problem) == "邮政编码 '6270' 不符合 US 的格式：美国邮政编码（ZIP）形如 12345 或 12345-6789"
        assert say(UserError(Message("you cannot deactivate yourself"))) == "不能停用自己"
        # Text that is no Message, and an unknown template, stay as they are.
        assert say("plain text") == "plain text"
        assert say(None) == ""
        assert say(Message("no translation for %(x)s", x=1)) == "no translation for 1"
    with app.test_request_context(headers=ENGLISH):
        assert say(problem) == str(problem)


def test_import_rejections_and_admin_errors_are_shown_in_chinese(
    app: Flask, logged_in, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    from tests.factories import customer_row, write_csv

    marketing = logged_in(Role.MARKETING)
    post(marketing, "/profile", {"locale": "zh"})
    path = write_csv(tmp_path / "zh.csv", [customer_row(customer_no="Z1", country="Atlantis")])
    with path.open("rb") as handle:
        page = post(marketing, "/imports", {"kind": "customers", "file": (handle, path.name)}).get_data(as_text=True)
    assert "未知国家 &#39;Atlantis&#39;" in page and "unknown country" not in page

    admin = logged_in(Role.ADMIN)
    post(admin, "/profile", {"locale": "zh"})
    email = "twice@example.com"
    new_user = {"email": email, "role": "mailroom", "password": "long enough password"}
    post(admin, "/admin/users/new", new_user)
    page = post(admin, "/admin/users/new", new_user).get_data(as_text=True)
    assert f"用户 {email} 已存在" in page
