"""The posted forms of the duplicates pages: merge one customer of a pair into the other, undo a merge,
mark a pair as not duplicates and take the mark back."""

from __future__ import annotations

from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from mailer.web.forms import FlaskForm

NOTE_MAX_LENGTH = 500


class MergeForm(FlaskForm):
    """A candidate pair, and which of the two survives (the button pressed)."""

    customer_no_a = HiddenField(validators=[DataRequired()])
    customer_no_b = HiddenField(validators=[DataRequired()])
    survivor = StringField(validators=[DataRequired()])

    def validate_survivor(self, field: StringField) -> None:
        """Accept only one of the pair's two customers as the survivor."""
        if field.data not in (self.customer_no_a.data, self.customer_no_b.data):
            raise ValidationError("the survivor must be one of the pair")

    def merged_no(self) -> str:
        """Return the customer number of the pair that is merged into the survivor."""
        if self.survivor.data == self.customer_no_a.data:
            return str(self.customer_no_b.data)
        return str(self.customer_no_a.data)


class UndoForm(FlaskForm):
    """The merge to undo."""

    merge_id = IntegerField(validators=[DataRequired()])


class PairForm(FlaskForm):
    """A pair to mark as not duplicates, or whose mark to take back."""

    customer_no_a = HiddenField(validators=[DataRequired()])
    customer_no_b = HiddenField(validators=[DataRequired()])


class DismissForm(PairForm):
    """A pair to mark as not duplicates, with why they are different people."""

    note = StringField(validators=[Optional(), Length(max=NOTE_MAX_LENGTH)])


class SearchForm(FlaskForm):
    """Start a stored duplicate search: of new and changed customers ("new") or of every customer."""

    scope = HiddenField(validators=[Optional(), AnyOf(("new", "all"))])
