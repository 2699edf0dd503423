"""Forms of the facility domain. They parse; the services validate and say what is wrong."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

WEEKDAYS = [
    (0, _l("Monday")),
    (1, _l("Tuesday")),
    (2, _l("Wednesday")),
    (3, _l("Thursday")),
    (4, _l("Friday")),
    (5, _l("Saturday")),
    (6, _l("Sunday")),
]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FacilityForm(FlaskForm):
    name = StringField(_l("Facility name"))
    host_country = SelectField(_l("Host country"))
    timezone = SelectField(_l("Time zone"))
    shift_pattern = StringField(
        _l("Shift start times (facility time)"),
        description=_l("e.g. 00:00, 08:00, 16:00 — a shift lasts until the next start"),
    )
    letterhead = TextAreaField(_l("Letterhead (text or simple HTML)"))


class PartitionsForm(FlaskForm):
    in_house = StringField(_l("In-house research (%)"))
    rapid_access = StringField(_l("Rapid access (%)"))
    proprietary = StringField(_l("Proprietary research (%)"))


class ContributionForm(FlaskForm):
    year = StringField(_l("Year"))
    country = SelectField(_l("Member country"))
    share = StringField(_l("Share of the budget (%)"))


class InstrumentForm(FlaskForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    techniques = StringField(_l("Techniques"), description=_l("separated by commas"))
    description = TextAreaField(_l("Description"))
    active = BooleanField(_l("Active (offered to users)"), default=True)
    start_shifts = MultiCheckboxField(_l("Sessions may start at"), coerce=int)
    start_weekdays = MultiCheckboxField(_l("Sessions may start on"), coerce=int, choices=WEEKDAYS)
    changeover_shifts = StringField(_l("Changeover between experiments (shifts)"), default="0")
    min_session_shifts = StringField(_l("Shortest session (shifts)"), default="3")


class CycleForm(FlaskForm):
    name = StringField(_l("Name"), description=_l("e.g. 2027-I"))
    starts_on = DateField(_l("First day"), validators=[Optional()])
    ends_on = DateField(_l("Last day"), validators=[Optional()])


class ModeForm(FlaskForm):
    code = StringField(_l("Code"), description=_l("e.g. multibunch"))
    name = StringField(_l("Name"))


class IntervalForm(FlaskForm):
    """A run of shifts on the grid, in facility time: from a first shift to a last shift, inclusive."""

    first_day = DateField(_l("From (day)"), validators=[InputRequired()])
    first_shift = SelectField(_l("From (shift)"), coerce=int)
    last_day = DateField(_l("Until (day)"), validators=[InputRequired()])
    last_shift = SelectField(_l("Until (last shift, included)"), coerce=int)


class DowntimeForm(IntervalForm):
    kind = SelectField(_l("Kind"), choices=[("shutdown", _l("Shutdown")), ("machine_day", _l("Machine day"))])
    title = StringField(_l("Title"))


class ModePeriodForm(IntervalForm):
    mode_id = SelectField(_l("Operating mode"), coerce=int)
    note = StringField(_l("Note"))


class BlockForm(IntervalForm):
    instrument_id = SelectField(_l("Instrument"), coerce=int)
    kind = SelectField(
        _l("Kind"),
        choices=[
            ("maintenance", _l("Maintenance")),
            ("in_house", _l("In-house research")),
            ("rapid_access", _l("Rapid-access slot")),
        ],
    )
    title = StringField(_l("Title"))


class OverrideForm(FlaskForm):
    instrument_id = HiddenField()
    shifts = StringField(_l("Capacity (shifts)"))
    reason = StringField(_l("Reason"))
