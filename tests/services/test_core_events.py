from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.core import events
from app.core.errors import InvalidState
from app.core.models import AuditEntry
from app.core.transaction import transactional
from app.extensions import db
from tests.factories import make_user


@dataclass(frozen=True)
class SomethingHappened:
    user_id: int
    fail_after: bool = False


def _subscriber(event: SomethingHappened) -> None:
    # the "higher domain" writes in the same transaction
    db.session.add(AuditEntry(actor_id=event.user_id, action="test.subscriber", changes={}))


@transactional
def _lower_service(user_id: int, *, fail_after: bool) -> None:
    db.session.add(AuditEntry(actor_id=user_id, action="test.publisher", changes={}))
    events.publish(SomethingHappened(user_id))
    if fail_after:
        raise InvalidState("test_failure")


@pytest.fixture
def subscribed():
    events.subscribe(SomethingHappened, _subscriber)
    yield
    events.unsubscribe(SomethingHappened, _subscriber)


def _actions() -> set[str]:
    return set(db.session.scalars(select(AuditEntry.action)))


def test_subscriber_runs_in_the_same_transaction(subscribed):
    user = make_user()
    _lower_service(user.id, fail_after=False)
    assert {"test.publisher", "test.subscriber"} <= _actions()


def test_rollback_undoes_publisher_and_subscriber(subscribed):
    user = make_user()
    db.session.commit()
    with pytest.raises(InvalidState):
        _lower_service(user.id, fail_after=True)
    assert not {"test.publisher", "test.subscriber"} & _actions()


def test_subscribing_twice_runs_the_handler_once(subscribed):
    events.subscribe(SomethingHappened, _subscriber)
    user = make_user()
    _lower_service(user.id, fail_after=False)
    assert sorted(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action == "test.subscriber"))) == [
        "test.subscriber"
    ]


def test_page_slots_collect_what_higher_domains_offer():
    def filler(proposal_id: int) -> str:
        return f"overdue report for {proposal_id}"

    events.fill_slot("test.slot", filler)
    events.fill_slot("test.slot", lambda proposal_id: None)
    assert events.slot_contents("test.slot", proposal_id=7) == ["overdue report for 7"]
