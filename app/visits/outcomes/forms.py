"""Forms of experiment reports and publications (parsing only; the services validate)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectMultipleField, StringField, TextAreaField


class ReportForm(FlaskForm):
    body = TextAreaField(
        _l("Report"),
        description=_l("Paragraphs, lists, emphasis, tables and links are kept; anything else is removed."),
    )


class ReportPdfForm(FlaskForm):
    pdf = FileField(_l("Report as a PDF"))


class PublicationForm(FlaskForm):
    doi = StringField(_l("DOI"), description=_l("For example 10.1107/S1600577521001234 or https://doi.org/…"))
    title = StringField(_l("Title"))
    year = StringField(_l("Year"))
    journal = StringField(_l("Journal"))
    instrument_ids = SelectMultipleField(
        _l("Instruments"), coerce=int, description=_l("None chosen: the instruments the proposal asked for.")
    )
