"""Forms of the scheduling domain. They parse; the services validate and say what is wrong."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Optional


class BookBlockForm(FlaskForm):
    instrument_id = SelectField(_l("Instrument"), coerce=int)
    kind = SelectField(
        _l("Kind"),
        choices=[
            ("maintenance", _l("Maintenance")),
            ("in_house", _l("In-house research")),
            ("rapid_access", _l("Rapid-access slot")),
        ],
    )
    day = DateField(_l("First day"), validators=[Optional()])
    shift = SelectField(_l("First shift"), coerce=int)
    length = StringField(_l("Length (shifts)"), default="1")
    title = StringField(_l("Title"))


class BookSessionForm(FlaskForm):
    day = DateField(_l("First day"), validators=[Optional()])
    shift = SelectField(_l("First shift"), coerce=int)
    length = StringField(_l("Length (shifts)"), default="1")


class MaxSessionsForm(FlaskForm):
    max_sessions = StringField(_l("Sessions at most"))
