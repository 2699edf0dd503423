"""Domain errors: a code and parameters, never an English sentence.

`app/web/messages.py` turns a code into translated text; views and the API map the classes
to HTTP statuses in one place (`app/web/errors.py`).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every expected failure of a use case."""

    status = 400

    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        if not self.params:
            return self.code
        inner = ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items()))
        return f"{self.code} ({inner})"


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it exists."""

    status = 404


class PermissionDenied(DomainError):
    """The actor sees the object but may not take this action."""

    status = 403


class InvalidState(DomainError):
    """The action does not fit the object's state (a closed call, a draft that is incomplete)."""

    status = 409


class Conflict(DomainError):
    """Someone else got there first (a slot just taken, a duplicate)."""

    status = 409


class ValidationFailed(DomainError):
    """Input that cannot be accepted; `field` names the offending field."""

    status = 422

    def __init__(self, code: str, /, *, field: str, **params: Any) -> None:
        super().__init__(code, field=field, **params)
        self.field = field
