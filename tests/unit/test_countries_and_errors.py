from app.accounts import countries
from app.core.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed


def test_kosovo_is_a_country_though_pycountry_lacks_it():
    assert countries.is_valid("XK")
    assert countries.name("XK") == "Kosovo"
    assert countries.get("XK").numeric is None  # no shape on world maps: listed beside them


def test_unknown_or_lowercase_codes_are_refused():
    assert not countries.is_valid("ZZ")
    assert not countries.is_valid("ch")
    assert not countries.is_valid("")
    assert not countries.is_valid(None)


def test_names_come_from_babel_in_the_requested_language():
    assert countries.name("DE", "fr") == "Allemagne"
    assert countries.name("DE", "en") == "Germany"
    assert countries.name("DE", "not-a-locale") == "Germany"


def test_choices_are_sorted_by_localised_name():
    names = [name for _code, name in countries.choices("en")]
    assert names == sorted(names, key=str.casefold)
    assert len(names) == len(countries.all_codes()) == 250


def test_domain_errors_carry_a_code_parameters_and_an_http_status():
    exc = ValidationFailed("email_taken", field="email")
    assert (exc.code, exc.field, exc.status) == ("email_taken", "email", 422)
    assert NotFound("x").status == 404
    assert PermissionDenied("x").status == 403
    assert InvalidState("call_closed", closed_at="2027-02-01").params == {"closed_at": "2027-02-01"}
    assert "closed_at='2027-02-01'" in str(InvalidState("call_closed", closed_at="2027-02-01"))
