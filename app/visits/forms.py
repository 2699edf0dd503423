"""Forms of the visits domain. They parse; the services validate and say what is wrong."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

MODE_CHOICES = [("on_site", _l("On site")), ("remote", _l("Remote"))]


class AddVisitorForm(FlaskForm):
    user_id = SelectField(_l("Team member"), coerce=str, validators=[Optional()])
    email = StringField(_l("Or invite by e-mail"), validators=[Optional()])
    mode = SelectField(_l("Taking part"), choices=MODE_CHOICES)


class RegistrationForm(FlaskForm):
    arrives_on = DateField(_l("Arrival"), validators=[Optional()])
    departs_on = DateField(_l("Departure"), validators=[Optional()])
    emergency_contact_name = StringField(_l("Emergency contact (name)"))
    emergency_contact_phone = StringField(_l("Emergency contact (phone)"))
    accommodation_wanted = BooleanField(_l("I need accommodation on site"))
    dosimeter_needed = BooleanField(_l("I need a dosimeter"))
    citizenship = SelectField(_l("Citizenship"), validators=[Optional()])


class DecisionForm(FlaskForm):
    action = SelectField(
        _l("Decision"),
        choices=[
            ("approve", _l("Approve")),
            ("request_changes", _l("Ask for changes")),
            ("refuse", _l("Refuse")),
            ("arrive", _l("Arrived on site")),
            ("complete", _l("Visit completed")),
            ("withdraw", _l("Withdraw")),
        ],
    )
    reason = TextAreaField(_l("Reason (sent to the visitor)"))


class AccessDecisionForm(FlaskForm):
    decision = SelectField(_l("Site access"), choices=[("approve", _l("Approve")), ("refuse", _l("Refuse"))])
    note = TextAreaField(_l("Note"))


class SafetyForm(FlaskForm):
    samples = TextAreaField(_l('Samples, one a line: "name: hazard, hazard"'))


class ConfirmForm(FlaskForm):
    pass


class AccessRuleForm(FlaskForm):
    country_group_id = SelectField(_l("Country group"), coerce=int)
    lead_days = StringField(_l("Lead time (days)"), default="0")
    working_days = BooleanField(_l("Count working days (holidays from the settings)"))
    needs_approval = BooleanField(_l("Needs an access approval"))
    by_citizenship = BooleanField(_l("Applies to citizenship (asked at registration)"))


class CourseForm(FlaskForm):
    name = StringField(_l("Course"))
    validity_days = StringField(_l("Valid for (days)"), default="365")
    required_on_site = BooleanField(_l("Required for every on-site visitor"), default=True)


class TrainingRecordForm(FlaskForm):
    user_email = StringField(_l("Person (e-mail)"))
    course_id = SelectField(_l("Course"), coerce=int)
    completed_on = DateField(_l("Completed on"), validators=[Optional()])
