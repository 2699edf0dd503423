from datetime import UTC, date, datetime

from sqlalchemy import select, text

from app.core import audit
from app.core.models import AuditEntry
from app.extensions import db
from tests.factories import make_user

SECRET = "X1234567-passport-secret"


class _Visitor:
    """A stand-in for a model with its own sensitive fields."""

    __tablename__ = "visitors"
    __sensitive__ = ("dietary_needs",)

    def __init__(self):
        self.id = 7
        self.name = "Ada"
        self.arrives_on = date(2027, 3, 1)
        self.passport_number = SECRET
        self.dietary_needs = "secret-diet-detail"


def _stored_json(entry: AuditEntry) -> str:
    db.session.flush()
    return db.session.execute(text("SELECT changes FROM audit_log WHERE id = :id"), {"id": entry.id}).scalar_one()


def _as_text(value) -> str:
    return value if isinstance(value, str) else repr(value)


def test_before_and_after_values_are_recorded():
    actor = make_user()
    visitor = _Visitor()
    before = audit.snapshot(visitor, ["name", "arrives_on"])
    visitor.name = "Ada Lovelace"
    visitor.arrives_on = date(2027, 3, 2)

    entry = audit.record(actor, "visit.changed", visitor, changes=audit.changes_since(visitor, before))
    db.session.flush()

    stored = db.session.scalar(select(AuditEntry).where(AuditEntry.id == entry.id))
    assert stored.changes == {
        "name": {"before": "Ada", "after": "Ada Lovelace"},
        "arrives_on": {"before": "2027-03-01", "after": "2027-03-02"},
    }
    assert (stored.object_type, stored.object_id, stored.actor_id) == ("_Visitor", "7", actor.id)


def test_unchanged_fields_are_not_recorded():
    visitor = _Visitor()
    before = audit.snapshot(visitor, ["name", "passport_number"])
    assert audit.changes_since(visitor, before) == {}


def test_sensitive_values_are_never_written():
    actor = make_user()
    visitor = _Visitor()
    before = audit.snapshot(visitor, ["name", "passport_number", "dietary_needs"])
    visitor.passport_number = "Y7654321-new-passport"
    visitor.dietary_needs = "another-diet-detail"

    entry = audit.record(actor, "visit.changed", visitor, changes=audit.changes_since(visitor, before))

    assert entry.changes["passport_number"]["changed"] is True
    assert entry.changes["dietary_needs"]["changed"] is True
    stored = _as_text(_stored_json(entry))
    for secret in (SECRET, "Y7654321-new-passport", "secret-diet-detail", "another-diet-detail"):
        assert secret not in stored


def test_sensitive_values_passed_directly_as_changes_are_redacted():
    actor = make_user()
    entry = audit.record(
        actor,
        "user.changed",
        object_type="User",
        object_id=actor.id,
        changes={
            "password_hash": {"before": "old-hash-value", "after": "new-hash-value"},
            "citizenship": {"before": "CH", "after": "secret-country"},
            "emergency_contact_phone": "+41 79 555 12 34",
            "name": {"before": "A", "after": "B"},
        },
    )
    stored = _as_text(_stored_json(entry))
    for secret in ("old-hash-value", "new-hash-value", "secret-country", "+41 79 555 12 34"):
        assert secret not in stored
    assert entry.changes["name"] == {"before": "A", "after": "B"}


def test_sensitive_names_nested_in_a_change_are_redacted_too():
    """ALWAYS_SENSITIVE names are sensitive wherever they appear, also inside nested records."""
    actor = make_user()
    entry = audit.record(
        actor,
        "visit.registered",
        object_type="Visit",
        object_id=1,
        changes={
            "visitor": {"after": {"name": "Ada", "passport_number": SECRET}},
            "companions": [{"name": "Bob", "emergency_contact": "Mum, +41 79 000 00 00"}],
        },
    )
    stored = _as_text(_stored_json(entry))
    assert SECRET not in stored
    assert "+41 79 000 00 00" not in stored
    assert "Ada" in stored and "Bob" in stored


def test_a_model_sensitive_field_is_recorded_as_changed_for_a_real_user():
    actor = make_user()
    target = make_user()
    before = audit.snapshot(target, ["password_hash", "name"])
    old_hash = target.password_hash
    target.password_hash = "$argon2id$fresh-secret-hash"
    entry = audit.record(actor, "user.password_changed", target, changes=audit.changes_since(target, before))
    stored = _as_text(_stored_json(entry))
    assert "fresh-secret-hash" not in stored and old_hash not in stored
    assert entry.changes == {"password_hash": {"changed": True, "before": audit.REDACTED, "after": audit.REDACTED}}


def test_record_accepts_an_explicit_time():
    at = datetime(2027, 1, 2, 3, 4, tzinfo=UTC)
    entry = audit.record(make_user(), "test.timed", object_type="Thing", object_id="x", at=at)
    db.session.flush()
    db.session.expire(entry)
    assert entry.at == at
