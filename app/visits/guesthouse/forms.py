"""Forms of the guesthouse (parsing only; the services validate)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import Optional


class RoomForm(FlaskForm):
    name = StringField(_l("Room name"))
    kind = SelectField(
        _l("Kind"), choices=[("single", _l("single")), ("shared", _l("shared")), ("accessible", _l("accessible"))]
    )
    beds = StringField(_l("Beds"), default="1")
    note = StringField(_l("Note"))


class BookBedForm(FlaskForm):
    bed_id = SelectField(_l("Bed"), choices=[])
    first_night = DateField(_l("First night"), validators=[Optional()])
    last_night = DateField(_l("Last night"), validators=[Optional()])


class StayForm(FlaskForm):
    accepts_sharing = BooleanField(_l("I accept a bed in a shared room"))
    needs_accessible = BooleanField(_l("I need an accessible room"))
