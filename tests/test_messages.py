"""Messages: the English text for the command line, and what a page needs to say it again."""

from __future__ import annotations

import json
import pickle

from mailer.messages import Message, join, shortened, stored


def test_a_message_is_its_english_text_and_keeps_its_template_and_values() -> None:
    message = Message("a user %(email)s already exists", email="ann@example.com")
    assert message == "a user ann@example.com already exists"
    assert isinstance(message, str) and message.startswith("a user ")
    assert message.template == "a user %(email)s already exists"
    assert message.values == {"email": "ann@example.com"}


def test_a_message_without_values_keeps_a_percent_sign_as_written() -> None:
    assert Message("100% sure") == "100% sure"


def test_a_message_survives_pickling_with_its_template() -> None:
    message = Message("line %(number)s", number=7)
    copy = pickle.loads(pickle.dumps(message))
    assert copy == "line 7" and copy.template == "line %(number)s" and copy.values == {"number": 7}


def test_joined_messages_read_as_one_text_and_keep_each_part() -> None:
    first = Message("Recorded: piece %(code)s.", code="7KQ4-MZ2D")
    second = Message("The address is now %(validity)s.", validity=Message("undeliverable"))
    joined = join(" ", [first, second])
    assert joined == "Recorded: piece 7KQ4-MZ2D. The address is now undeliverable."
    assert list(joined.values.values()) == [first, second]
    assert join("; 100% ", [first, second]) == "Recorded: piece 7KQ4-MZ2D.; 100% The address is now undeliverable."


def test_a_message_is_stored_as_json_and_read_back_whole() -> None:
    message = Message("returned mail: %(code)s, %(why)s", code="VAC", why=Message("line %(number)s", number=3))
    data = json.loads(json.dumps(stored(message)))
    again = Message.from_json(data)
    assert again == message and again.template == message.template
    assert isinstance(again.values["why"], Message) and again.values["why"].values == {"number": 3}
    # Plain text has nothing to store beside it.
    assert stored("typed by hand") is None and stored(None) is None


def test_shortened_cuts_long_values_to_forty_characters_with_an_ellipsis() -> None:
    assert shortened("x" * 40) == "x" * 40
    assert shortened("x" * 5000) == "x" * 39 + "…"
