"""Forms of the proposals domain (parsing only: the services check the rules)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.proposals.models import DateKind, Hazard, SampleForm, SubjectArea

SUBJECT_LABELS = {
    SubjectArea.BIOLOGY: _l("Biology and structural biology"),
    SubjectArea.CHEMISTRY: _l("Chemistry"),
    SubjectArea.CONDENSED_MATTER: _l("Condensed matter physics"),
    SubjectArea.MATERIALS: _l("Materials science"),
    SubjectArea.EARTH_ENVIRONMENT: _l("Earth and environmental sciences"),
    SubjectArea.ENGINEERING: _l("Engineering"),
    SubjectArea.MEDICINE: _l("Medicine"),
    SubjectArea.CULTURAL_HERITAGE: _l("Cultural heritage"),
    SubjectArea.METHODS: _l("Methods and instrumentation"),
    SubjectArea.OTHER: _l("Other"),
}
HAZARD_LABELS = {
    Hazard.TOXIC: _l("Toxic"),
    Hazard.RADIOACTIVE: _l("Radioactive"),
    Hazard.BIOLOGICAL: _l("Biological"),
    Hazard.NANOMATERIAL: _l("Nanomaterial"),
    Hazard.CRYOGENIC: _l("Cryogenic"),
    Hazard.HIGH_PRESSURE: _l("High pressure"),
    Hazard.NONE: _l("None of these"),
}
FORM_LABELS = {
    SampleForm.CRYSTAL: _l("Single crystal"),
    SampleForm.POWDER: _l("Powder"),
    SampleForm.SOLID: _l("Solid"),
    SampleForm.THIN_FILM: _l("Thin film"),
    SampleForm.LIQUID: _l("Liquid"),
    SampleForm.SOLUTION: _l("Solution"),
    SampleForm.GAS: _l("Gas"),
    SampleForm.OTHER: _l("Other"),
}
DATE_KIND_LABELS = {DateKind.PREFERRED: _l("Preferred"), DateKind.UNACCEPTABLE: _l("Cannot come")}


class ProposalTextForm(FlaskForm):
    title = StringField(_l("Title"))
    abstract = TextAreaField(_l("Abstract"))
    subject_area = SelectField(
        _l("Subject area"), choices=[("", _l("— choose —"))] + [(k.value, v) for k, v in SUBJECT_LABELS.items()]
    )


class UploadForm(FlaskForm):
    science_case = FileField(_l("Science case (PDF)"))


class RequestForm(FlaskForm):
    instrument_id = SelectField(_l("Instrument"), coerce=int, validators=[DataRequired()])
    shifts = IntegerField(_l("Shifts"), validators=[Optional()])
    cycles = IntegerField(_l("Over how many cycles"), default=1, validators=[Optional()])
    operating_mode_id = SelectField(_l("Required operating mode"), coerce=lambda v: int(v) if v else None)
    justification = TextAreaField(_l("Justification of the shifts"))


class SampleFormFields(FlaskForm):
    name = StringField(_l("Sample name"))
    formula = StringField(_l("Chemical formula"))
    form = SelectField(_l("Form"), choices=[("", _l("— choose —"))] + [(k.value, v) for k, v in FORM_LABELS.items()])
    quantity = StringField(_l("Quantity"))
    hazards = SelectMultipleField(
        _l("Hazards"),
        choices=[(k.value, v) for k, v in HAZARD_LABELS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    biological_risk_group = IntegerField(_l("Biological risk group (1–4)"), validators=[Optional()])


class DateForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[(k.value, v) for k, v in DATE_KIND_LABELS.items()])
    starts_on = DateField(_l("From"), validators=[Optional()])
    ends_on = DateField(_l("To"), validators=[Optional()])
    note = StringField(_l("Note"))


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail address of the person to invite"))


class LinkForm(FlaskForm):
    reference = StringField(_l("Reference of an earlier proposal"))


class CloneForm(FlaskForm):
    call_id = SelectField(_l("Into the call"), coerce=int)


class CallForm(FlaskForm):
    """A call for a cycle (the cycle comes from the page). Times are facility-local wall-clock
    times; the instruments offered and their caps are read from the request by the view."""

    route = SelectField(_l("Access route"))
    title = StringField(_l("Title"))
    description = TextAreaField(_l("Description shown to users"))
    opens_at = DateTimeLocalField(_l("Opens (facility time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes (facility time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    max_shifts_per_request = IntegerField(_l("Most shifts per request"), default=21, validators=[Optional()])
    proposal_shift_cap = IntegerField(
        _l("Rapid access: most shifts per proposal"),
        validators=[Optional()],
        description=_l("Required for a rapid-access call; ignored for the other routes."),
    )
    max_cycles = IntegerField(
        _l("Long-term: cycles a request may span"),
        default=1,
        validators=[Optional()],
        description=_l("1 to 3; long-term calls only."),
    )
