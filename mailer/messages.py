"""Messages that services say in English and the web pages say in the reader's language.

A service builds its message as ``Message("a user %(email)s already exists", email=email)``. The
result is the English text, a plain ``str`` to the command line, CSV files and logs, and it keeps
its template and values, so a page can look the template up in its catalog and fill in the same
values (``mailer.web.i18n.say``). pybabel extracts the templates: ``Message`` is one of its keywords
in ``scripts/compile_translations.sh``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# How much of a bad value a message quotes: enough to find it, not a whole pasted page.
QUOTED_LENGTH = 40
ELLIPSIS = "…"


class Message(str):
    """An English text that remembers the template and values it was made from."""

    template: str
    values: Mapping[str, Any]

    def __new__(cls, template: str, /, **values: Any) -> Message:
        """Fill the template (``%(name)s`` placeholders) with the values."""
        message = super().__new__(cls, template % values if values else template)
        message.template = template
        message.values = values
        return message

    def to_json(self) -> dict[str, Any]:
        """Return the template and values as JSON-ready data (values must be JSON values or Messages)."""
        return {
            "template": self.template,
            "values": {name: value.to_json() if isinstance(value, Message) else value
                       for name, value in self.values.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        """Return the message ``to_json`` stored."""
        values = {
            name: cls.from_json(value) if isinstance(value, Mapping) and "template" in value else value
            for name, value in data.get("values", {}).items()
        }
        return cls(data["template"], **values)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (by worker processes) as what it was made from, not as the finished text.
        return (_rebuild, (self.template, dict(self.values)))


def _rebuild(template: str, values: dict[str, Any]) -> Message:
    return Message(template, **values)


def stored(text: str | None) -> dict[str, Any] | None:
    """Return what to store beside a text so it can be said again in another language: a Message's JSON, else None."""
    return text.to_json() if isinstance(text, Message) else None


def restored(text: str | None, phrase: Mapping[str, Any] | None) -> str | None:
    """Return a stored text as a Message where its phrase was stored beside it, else as it is."""
    return text if phrase is None else Message.from_json(phrase)


def join(separator: str, parts: list[Message] | tuple[Message, ...]) -> Message:
    """Join messages into one whose parts each stay translatable."""
    names = [f"part{index}" for index in range(len(parts))]
    template = separator.replace("%", "%%").join(f"%({name})s" for name in names)
    return Message(template, **dict(zip(names, parts, strict=True)))


def shortened(value: str) -> str:
    """Return a value cut to about QUOTED_LENGTH characters, with an ellipsis where it was cut."""
    if len(value) <= QUOTED_LENGTH:
        return value
    return value[: QUOTED_LENGTH - len(ELLIPSIS)] + ELLIPSIS
