"""Forms of the scheduling domain. They parse; the services validate and say what is wrong."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
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


# --- the schedule workflow (issue 7) ------------------------------------------------------


class SolveForm(FlaskForm):
    effort = StringField(_l("Effort (1 fast … 10 thorough)"), default="2")


class PlaceForm(FlaskForm):
    """Where an experiment goes (move, add): the services check the values."""

    day = DateField(_l("First day"), validators=[Optional()])
    shift = SelectField(_l("First shift"), coerce=int)
    length = StringField(_l("Length (shifts)"))
    confirm = HiddenField(default="")


class AddForm(PlaceForm):
    award_id = SelectField(_l("Award"), coerce=int)


class SwapForm(FlaskForm):
    other_id = SelectField(_l("Swap with"), coerce=int)
    confirm = HiddenField(default="")


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason (sent to the team)"))


class DeliveryForm(FlaskForm):
    delivered_shifts = StringField(_l("Delivered shifts"))
    lost_shifts = StringField(_l("Lost shifts"), default="0")
    lost_reason = SelectField(
        _l("Why shifts were lost"),
        choices=[
            ("", _l("No shift lost")),
            ("machine_fault", _l("Machine fault")),
            ("instrument_fault", _l("Instrument fault")),
            ("user_no_show", _l("User no-show")),
            ("other", _l("Other")),
        ],
    )
    lost_note = TextAreaField(_l("Note"))
