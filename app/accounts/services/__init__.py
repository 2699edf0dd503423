"""Use cases of the accounts domain: the only code here that changes state.

    people        accounts, log-in, roles with scope, personal access tokens
    registration  registration, e-mail verification, password reset, profile
    reference     institutions (and merging duplicates), country groups
    privacy       closing an account, the retention rule for unverified accounts

Everything is re-exported here: callers write `services.register_user(...)`.
"""

from app.accounts.services.people import *  # noqa: F403
from app.accounts.services.privacy import *  # noqa: F403
from app.accounts.services.reference import *  # noqa: F403
from app.accounts.services.registration import *  # noqa: F403
