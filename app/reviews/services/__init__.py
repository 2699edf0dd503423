"""Use cases of the reviews domain: the only code here that changes state.

    review       starting the review of a call, technical reviews, panels, expertise, bids
    grading      assignment (automatic, override, conflicts declared and replaced), reviews
    decisions    the panel meeting, allocation, decisions staged / signed off / released, withdrawal
    rapid        rapid access: light review at submission, first-come awards, decision at once
    exports      ranking and allocation rows (no reviewer names), small shared reads

Everything is re-exported here: callers write `services.submit_review(...)`.
"""

from app.reviews import models as _models  # noqa: F401 - tables
from app.reviews.services.decisions import *  # noqa: F403
from app.reviews.services.exports import *  # noqa: F403
from app.reviews.services.grading import *  # noqa: F403
from app.reviews.services.rapid import *  # noqa: F403
from app.reviews.services.review import *  # noqa: F403


def _register() -> None:
    """Fill the proposals domain's readers slot (assigned reviewers and instrument scientists
    may read a proposal) and react to a withdrawn proposal; the proposals domain never imports
    reviews."""
    from app.core import events
    from app.proposals.events import ProposalSubmitted, ProposalWithdrawn
    from app.proposals.permissions import READERS_SLOT
    from app.reviews.permissions import can_read_proposal_for_review
    from app.reviews.services.decisions import on_proposal_withdrawn
    from app.reviews.services.rapid import on_proposal_submitted

    events.fill_slot(READERS_SLOT, can_read_proposal_for_review)
    events.subscribe(ProposalWithdrawn, on_proposal_withdrawn)
    events.subscribe(ProposalSubmitted, on_proposal_submitted)


_register()
