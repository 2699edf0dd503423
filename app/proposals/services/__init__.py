"""Use cases of the proposals domain: the only code here that changes state.

    calls      calls for a cycle; the job that opens and closes them
    proposals  drafts, autosave, science case, completeness, submission, withdrawal, cloning
    parts      beamtime requests, dates, samples, links to earlier proposals
    team       affiliation snapshots, invitations, PI hand-over, leaving

Everything is re-exported here: callers write `services.submit_proposal(...)`.
"""

from app.proposals.services.calls import *  # noqa: F403
from app.proposals.services.parts import *  # noqa: F403
from app.proposals.services.proposals import *  # noqa: F403
from app.proposals.services.team import *  # noqa: F403
