from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.core import settings
from app.core.errors import ValidationFailed
from app.core.models import AuditEntry, Setting
from app.extensions import db
from tests.factories import make_user

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def defined():
    """Test settings, declared for one test and removed afterwards."""
    keys = {
        "test.max_shifts": (int, 21, {"minimum": 1, "maximum": 90}),
        "test.grade_weight": (float, 0.5, {"minimum": 0.0, "maximum": 1.0}),
        "test.public_schedule": (bool, False, {}),
        "test.office_name": (str, "User office", {}),
        "test.languages": (list, ["en"], {}),
        "test.review_mode": (str, "single", {"choices": ("single", "double")}),
    }
    for key, (type_, default, bounds) in keys.items():
        settings.define(key, type_, default, key, **bounds)
    yield
    for key in keys:
        settings._REGISTRY.pop(key, None)


def _staff():
    return make_user(roles=[Role.ADMIN])


def test_defaults_are_returned_until_a_value_is_stored():
    assert settings.get_int("test.max_shifts") == 21
    assert settings.get_float("test.grade_weight") == 0.5
    assert settings.get_bool("test.public_schedule") is False
    assert settings.get_str("test.office_name") == "User office"
    assert settings.get("test.languages") == ["en"]
    assert db.session.get(Setting, "test.max_shifts") is None


def test_stored_values_come_back_typed():
    actor = _staff()
    settings.set_setting("test.max_shifts", " 30 ", actor=actor)
    settings.set_setting("test.grade_weight", "0.25", actor=actor)
    settings.set_setting("test.public_schedule", "yes", actor=actor)
    settings.set_setting("test.languages", "en, fr,,de ", actor=actor)
    db.session.expire_all()

    assert settings.get_int("test.max_shifts") == 30
    assert settings.get_float("test.grade_weight") == 0.25
    assert settings.get_bool("test.public_schedule") is True
    assert settings.get("test.languages") == ["en", "fr", "de"]
    values = settings.all_values()
    assert values["test.max_shifts"] == 30 and values["test.office_name"] == "User office"


@pytest.mark.parametrize(
    ("key", "raw", "code"),
    [
        ("test.max_shifts", "thirty", "setting_wrong_type"),
        ("test.max_shifts", "2.5", "setting_wrong_type"),
        ("test.max_shifts", 2.5, "setting_wrong_type"),
        ("test.max_shifts", True, "setting_wrong_type"),
        ("test.max_shifts", None, "setting_wrong_type"),
        ("test.max_shifts", "0", "setting_too_small"),
        ("test.max_shifts", 91, "setting_too_large"),
        ("test.grade_weight", "nan", "setting_wrong_type"),
        ("test.grade_weight", float("inf"), "setting_wrong_type"),
        ("test.grade_weight", "1.5", "setting_too_large"),
        ("test.public_schedule", "maybe", "setting_wrong_type"),
        ("test.office_name", None, "setting_wrong_type"),
        ("test.review_mode", "triple", "setting_not_a_choice"),
    ],
)
def test_bad_values_are_refused_naming_the_field_and_nothing_is_stored(key, raw, code):
    with pytest.raises(ValidationFailed) as caught:
        settings.set_setting(key, raw, actor=_staff())
    assert caught.value.code == code
    assert caught.value.field == key
    assert db.session.get(Setting, key) is None
    assert db.session.scalars(select(AuditEntry)).all() == []


def test_boundary_values_are_accepted():
    actor = _staff()
    assert settings.set_setting("test.max_shifts", "1", actor=actor) == 1
    assert settings.set_setting("test.max_shifts", 90, actor=actor) == 90
    assert settings.set_setting("test.grade_weight", 1, actor=actor) == 1.0


def test_unknown_key_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        settings.set_setting("test.no_such_setting", "1", actor=_staff())
    assert caught.value.field == "key"
    assert caught.value.code == "setting_unknown"
    with pytest.raises(ValidationFailed):
        settings.get("test.no_such_setting")


def test_a_change_is_audited_with_before_and_after():
    actor = _staff()
    settings.set_setting("test.max_shifts", 30, actor=actor, now=T0)
    settings.set_setting("test.max_shifts", 45, actor=actor, now=T0)

    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.object_type, e.object_id) for e in entries] == [
        ("setting.changed", "Setting", "test.max_shifts")
    ] * 2
    assert entries[0].changes == {"test.max_shifts": {"before": 21, "after": 30}}
    assert entries[1].changes == {"test.max_shifts": {"before": 30, "after": 45}}
    assert {e.actor_id for e in entries} == {actor.id}
    assert entries[0].at == T0


def test_storing_the_same_value_again_writes_no_audit_entry():
    actor = _staff()
    settings.set_setting("test.max_shifts", 30, actor=actor)
    settings.set_setting("test.max_shifts", "30", actor=actor)
    assert len(db.session.scalars(select(AuditEntry)).all()) == 1


def test_a_list_setting_with_an_item_check_refuses_a_bad_item_and_keeps_the_old_value(db_session, app_ctx):
    admin = make_user()
    settings.set_setting("visits.holidays", "2027-12-25, 2027-12-26", actor=admin)
    with pytest.raises(ValidationFailed) as caught:
        settings.set_setting("visits.holidays", "2027-12-25, 25/12/2027", actor=admin)
    assert caught.value.code == "setting_item_invalid"
    assert caught.value.field == "visits.holidays"
    assert caught.value.params["item"] == "25/12/2027"
    assert settings.get("visits.holidays") == ["2027-12-25", "2027-12-26"]
