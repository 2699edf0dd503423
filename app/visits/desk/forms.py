"""Forms of the front desk and of the feedback (parsing only; the services validate)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField

RATING_CHOICES = [("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5")]


class CheckInForm(FlaskForm):
    override_reason = TextAreaField(
        _l("Override reason"),
        description=_l("Only when the checklist is not complete: why the visitor may come in anyway."),
    )


class FeedbackForm(FlaskForm):
    instrument = RadioField(_l("The instrument"), choices=RATING_CHOICES, validate_choice=False)
    support = RadioField(_l("Support by the staff"), choices=RATING_CHOICES, validate_choice=False)
    accommodation = RadioField(_l("Accommodation"), choices=RATING_CHOICES, validate_choice=False)
    overall = RadioField(_l("Overall"), choices=RATING_CHOICES, validate_choice=False)
    comments = TextAreaField(_l("Comments"))
