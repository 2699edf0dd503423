"""Forms of the reviews domain (parsing only: the services check the rules)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.proposals.forms import SUBJECT_LABELS
from app.reviews.models import BidLevel, Feasibility, Outcome

#: the written scale reviewers grade against (issue 5: 5 is outstanding)
GRADE_SCALE = [
    (5, _l("5 — Outstanding: of the highest scientific quality, should be done with priority")),
    (4, _l("4 — Excellent: high quality, strongly recommended")),
    (3, _l("3 — Good: sound science, recommended if time allows")),
    (2, _l("2 — Fair: interesting, but with weaknesses in case or method")),
    (1, _l("1 — Poor: not recommended")),
]
FEASIBILITY_LABELS = {
    Feasibility.FEASIBLE: _l("Feasible"),
    Feasibility.FEASIBLE_WITH_CHANGES: _l("Feasible with changes"),
    Feasibility.NOT_FEASIBLE: _l("Not feasible"),
}
BID_LABELS = {BidLevel.EAGER: _l("Eager"), BidLevel.WILLING: _l("Willing"), BidLevel.NOT_MY_FIELD: _l("Not my field")}
OUTCOME_LABELS = {Outcome.ACCEPTED: _l("accepted"), Outcome.RESERVE: _l("reserve"), Outcome.REJECTED: _l("rejected")}


class GradeForm(FlaskForm):
    grade = RadioField(_l("Grade"), choices=GRADE_SCALE, coerce=int, validators=[Optional()])
    comment_for_panel = TextAreaField(_l("Comment for the panel (never shown to the proposers)"))


class ConflictForm(FlaskForm):
    reason = StringField(_l("Why (seen by the user office only)"))


class BidForm(FlaskForm):
    level = SelectField(_l("Your bid"), choices=[(k.value, v) for k, v in BID_LABELS.items()])


class ExpertiseForm(FlaskForm):
    keywords = StringField(_l("Your expertise (keywords, separated by commas)"))


class TechnicalReviewForm(FlaskForm):
    feasibility = RadioField(
        _l("Feasibility"), choices=[(k.value, v) for k, v in FEASIBILITY_LABELS.items()], validators=[Optional()]
    )
    recommended_shifts = IntegerField(_l("Recommended shifts"), validators=[Optional()])
    comment_for_panel = TextAreaField(_l("Comment for the panel"))
    comment_for_pi = TextAreaField(_l("Comment for the proposers"))


class PanelDecisionForm(FlaskForm):
    final_grade = DecimalField(_l("Final grade (1–5)"), places=2, validators=[Optional()])
    final_rank = IntegerField(_l("Final rank"), validators=[Optional()])
    justification = TextAreaField(_l("Justification (kept in the audit log)"))
    comment_for_pi = TextAreaField(_l("Comment for the PI (your words, never the reviewers')"))


class PanelForm(FlaskForm):
    name = StringField(_l("Name"))
    subject_areas = SelectMultipleField(
        _l("Subject areas"),
        choices=[(k.value, v) for k, v in SUBJECT_LABELS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    deputy_chair_id = SelectField(_l("Deputy chair"), choices=[], validate_choice=False)
    active = SelectField(_l("State"), choices=[("1", _l("active")), ("0", _l("retired"))])


class OverrideForm(FlaskForm):
    reviewer_id = SelectField(_l("Reviewer"), choices=[], coerce=int, validate_choice=False)
    reason = StringField(_l("Reason (shown with the assignment)"))


class AwardForm(FlaskForm):
    shifts = IntegerField(_l("Shifts"), validators=[Optional()])
    local_contact_id = SelectField(_l("Local contact"), choices=[], validate_choice=False)
    reason = StringField(_l("Reason"))


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Reason"))


class SignOffForm(FlaskForm):
    notify_on = DateField(
        _l("Notification date (decisions go out at midnight, facility time)"), validators=[Optional()]
    )
