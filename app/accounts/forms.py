"""Forms of the accounts domain. They parse and check shapes; the services check the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, NumberRange, Optional

from app.accounts.models import InstitutionKind

KIND_LABELS = {
    InstitutionKind.UNIVERSITY.value: _l("University"),
    InstitutionKind.RESEARCH_INSTITUTE.value: _l("Research institute"),
    InstitutionKind.INTERNATIONAL_ORGANISATION.value: _l("International organisation"),
    InstitutionKind.FACILITY.value: _l("This facility"),
    InstitutionKind.COMPANY.value: _l("Company"),
}


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def kind_choices(include_facility: bool = True) -> list[tuple[str, object]]:
    return [(k, label) for k, label in KIND_LABELS.items() if include_facility or k != InstitutionKind.FACILITY.value]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Remember me on this device"))


class TokenForm(FlaskForm):
    name = StringField(_l("What is this token for?"), validators=[DataRequired(), Length(max=100)])


class _InstitutionPicker:
    """Pick an institution (searched with htmx) or propose a new one."""

    institution_search = StringField(_l("Search for your institution"), validators=[Optional()])
    institution_id = SelectField(_l("Institution"), coerce=_int_or_none, validate_choice=False, choices=[])
    new_institution_name = StringField(_l("Name of the institution"), validators=[Optional(), Length(max=300)])
    new_institution_kind = SelectField(_l("Kind"), choices=[], validators=[Optional()])
    new_institution_country_code = SelectField(_l("Country"), choices=[], validators=[Optional()])


class RegisterForm(_InstitutionPicker, FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    password_confirm = PasswordField(
        _l("Password again"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )
    orcid = StringField(_l("ORCID iD (optional)"), validators=[Optional(), Length(max=60)])
    accept_privacy = BooleanField(_l("I have read the privacy notice and accept it"))


class EmailForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired()])
    password_confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ProfileForm(_InstitutionPicker, FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    orcid = StringField(_l("ORCID iD (optional)"), validators=[Optional(), Length(max=60)])
    locale = SelectField(_l("Language"), choices=[], validators=[Optional()])


class EmailChangeForm(FlaskForm):
    email = EmailField(_l("New e-mail address"), validators=[DataRequired(), Email(), Length(max=320)])
    password = PasswordField(_l("Your password"), validators=[DataRequired()])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired()])
    password_confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class CloseAccountForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired()])
    confirm = BooleanField(
        _l("I understand that my account is closed for good"),
        validators=[InputRequired(message=_l("Tick this box to confirm."))],
    )


class InstitutionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Kind"), choices=[])
    country_code = SelectField(_l("Country"), choices=[], validators=[Optional()])
    parent_id = IntegerField(
        _l("Part of (id of the parent institution, optional)"), validators=[Optional(), NumberRange(min=1)]
    )
    ror_id = StringField(_l("ROR id (optional)"), validators=[Optional(), Length(max=60)])


class MergeForm(FlaskForm):
    survivor_id = IntegerField(
        _l("Keep this institution (id) and merge the one shown into it"), validators=[InputRequired()]
    )


class CountryGroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=500)])
    countries = SelectMultipleField(_l("Countries"), choices=[], validate_choice=False)


class GrantRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[])
    scope_instrument = SelectField(
        _l("Instrument (for instrument scientists)"), coerce=_int_or_none, validate_choice=False, choices=[]
    )
    scope_panel = SelectField(
        _l("Panel (for reviewers and panel chairs)"), coerce=_int_or_none, validate_choice=False, choices=[]
    )
    scope_instrument_id = IntegerField(_l("Instrument id"), validators=[Optional(), NumberRange(min=1)])
    scope_panel_id = IntegerField(_l("Panel id"), validators=[Optional(), NumberRange(min=1)])
