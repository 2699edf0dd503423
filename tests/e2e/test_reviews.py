"""Issue 5 through a real browser: a reviewer grades an assigned proposal against the written
scale, then sees the other reviews (never who wrote them)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import PASSWORD


def test_a_reviewer_grades_and_then_sees_the_other_reviews(app, page, demo, axe, at_375, log_in):
    from app.reviews import services
    from tests.factories_reviews import AFTER_CLOSE, make_review_setup

    with app.app_context():
        setup = make_review_setup(reviewers=2, proposals=1)
        setup.reviewers[1].name = "Bea Otherreviewer"
        from sqlalchemy import update

        from app.extensions import db
        from app.reviews.models import Panel

        # the demo's chemistry panel would take the proposal: this test's panel is the active one
        db.session.execute(update(Panel).where(Panel.id != setup.panel.id).values(active=False))
        db.session.commit()
        services.start_review(setup.call.id, actor=setup.staff, now=AFTER_CLOSE)
        proposal = setup.proposals[0]
        mine = services.override_assignment(proposal.id, setup.reviewers[0].id, reason="e2e", actor=setup.staff)
        theirs = services.override_assignment(proposal.id, setup.reviewers[1].id, reason="e2e", actor=setup.staff)
        services.submit_review(theirs.id, grade=4, comment_for_panel="A careful plan.", actor=setup.reviewers[1])
        email, reference, assignment_id = setup.reviewers[0].email, proposal.reference, mine.id

    log_in(page, email, PASSWORD)
    page.get_by_role("link", name="My reviews").first.click()
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_text("5 — Outstanding", exact=False)).to_be_visible()
    expect(page.get_by_text("A careful plan.")).to_have_count(0)
    axe(page)
    at_375(page)

    page.get_by_role("button", name="Submit my review").click()  # no grade: said next to the field
    expect(page.locator("#grade-error")).to_be_visible()
    page.get_by_label("4 — Excellent", exact=False).check()
    page.get_by_label("Comment for the panel", exact=False).fill("Convincing preliminary data.")
    page.get_by_role("button", name="Submit my review").click()

    expect(page).to_have_url(f"{page.url.split('/reviews/')[0]}/reviews/assignments/{assignment_id}")
    expect(page.get_by_text("A careful plan.", exact=False)).to_be_visible()
    expect(page.get_by_text("Bea Otherreviewer")).to_have_count(0)
    axe(page)
