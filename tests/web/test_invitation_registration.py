"""An invitee without an account: the invitation link → log in → register → confirm the
address → log in → the invitation → join → the proposal. The page they were opening is
carried through every step (`next`), and only as a local path."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select

from app.core.db import utcnow
from app.core.models import OutboxMessage
from app.extensions import db
from app.proposals import services
from app.proposals.models import Proposal
from tests.factories import make_institution
from tests.factories_proposals import make_call, make_person, make_proposal

PASSWORD = "quantum-lattice-4711"


def _last_mail_to(address: str) -> str:
    for message in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())):
        if address in message.recipients:
            return message.body_text
    raise AssertionError(f"no e-mail to {address}")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_an_invitee_without_an_account_registers_and_lands_on_the_proposal(client, ctx):
    with ctx():
        now = utcnow()
        call = make_call(opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=10))
        proposal = make_proposal(call=call, pi=make_person(), now=now)
        _invitation, _token = services.invite_member(proposal.id, "newcomer@example.org", actor=proposal.pi.user)
        institution = make_institution(name="Synchrotron SOLEIL", country_code="FR")
        proposal_id, institution_id = proposal.id, institution.id
        invitation_path = _path(
            re.search(r"(https?://\S+/invitations/\S+)", _last_mail_to("newcomer@example.org")).group(1)
        )
        db.session.commit()

    # 1. the link from the e-mail, logged out: log in first, with the invitation kept as `next`
    to_login = client.get(invitation_path)
    assert to_login.status_code == 302
    login_url = to_login.headers["Location"]
    assert unquote(parse_qs(urlsplit(login_url).query)["next"][0]) == invitation_path
    login_page = client.get(login_url).get_data(as_text=True)
    register_link = re.search(r'href="(/register\?next=[^"]+)"', login_page).group(1).replace("&amp;", "&")

    # 2. no account yet: register, with the invitation still in view
    register_page = client.get(register_link)
    assert register_page.status_code == 200 and b"go on to the page you were opening" in register_page.data
    registered = client.post(
        register_link,
        data={
            "name": "Nova Newcomer",
            "email": "newcomer@example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "institution_id": str(institution_id),
            "accept_privacy": "y",
        },
    )
    assert registered.status_code == 200 and b"Check your e-mail" in registered.data

    # 3. the confirmation link leads back to the log-in, then to the invitation
    with ctx():
        body = _last_mail_to("newcomer@example.org")
    verify_path = _path(re.search(r"(https?://\S+/verify/\S+)", body).group(1))
    assert "next=" in verify_path
    verified = client.get(verify_path)
    assert verified.status_code == 302
    after_verify = verified.headers["Location"]
    assert after_verify.startswith("/login?next=")
    logged_in = client.post(after_verify, data={"email": "newcomer@example.org", "password": PASSWORD})
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == invitation_path

    # 4. the invitation: join, and land on the proposal as a co-proposer
    page = client.get(invitation_path)
    assert page.status_code == 200
    joined = client.post(invitation_path)
    assert joined.status_code == 302 and joined.headers["Location"] == f"/proposals/{proposal_id}"
    assert client.get(joined.headers["Location"]).status_code == 200
    with ctx():
        db.session.expire_all()
        members = {m.user.email: m.role.value for m in db.session.get(Proposal, proposal_id).members}
    assert members["newcomer@example.org"] == "co_proposer"


def test_next_is_only_ever_a_local_path(client, ctx):
    """A crafted registration or confirmation link cannot send anyone off the site."""
    for target in ("https://evil.example/x", "//evil.example", "/\\evil.example"):
        page = client.get("/register", query_string={"next": target}).get_data(as_text=True)
        assert "go on to the page you were opening" not in page
        assert client.get("/login", query_string={"next": target}).status_code == 200
    response = client.get("/verify/not-a-token", query_string={"next": "https://evil.example"})
    assert response.status_code == 400 and "evil.example" not in response.headers.get("Location", "")
