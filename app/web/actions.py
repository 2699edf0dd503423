"""The usual answer to a POST button: check the form's CSRF token, call one service, say what
happened and go back. A refused action (a rule of the domain: wrong state, a conflict, a bad
value) is flashed and changes nothing; a missing permission or a missing row is not caught here
and reaches the error handlers (403, 404) like anywhere else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.core.errors import Conflict, InvalidState, ValidationFailed
from app.web.forms import ConfirmForm
from app.web.messages import message

#: what a button's service may refuse with: shown to the user, nothing saved
REFUSALS: tuple[type[Exception], ...] = (InvalidState, Conflict, ValidationFailed)


def session_expired(back: str) -> Response:
    """The form's CSRF token was missing or stale: nothing was done; go back and say so."""
    flash(_("Your session expired; please try again."), "warning")
    return redirect(back)


def confirmed(
    action: Callable[[], Any],
    *,
    back: str,
    done: str | Callable[[Any], str],
    then: str | Callable[[Any], str] | None = None,
    form: FlaskForm | None = None,
    refused_level: str = "danger",
) -> Response:
    """Run `action` when the button's form is valid. `done` is the success message (or builds it
    from the action's result); the answer redirects to `then` on success (default `back`) and to
    `back` when the session expired or the service refused."""
    if not (form or ConfirmForm()).validate_on_submit():
        return session_expired(back)
    try:
        result = action()
    except REFUSALS as exc:
        flash(message(exc), refused_level)
        return redirect(back)
    flash(done(result) if callable(done) else done, "success")
    if then is None:
        return redirect(back)
    return redirect(then(result) if callable(then) else then)


def attach_error(form: FlaskForm, exc: Exception) -> None:
    """Show a refused action's message next to the field the service named, else above the form."""
    name = getattr(exc, "field", None) if isinstance(exc, ValidationFailed) else None
    field = form._fields.get(name) if name else None
    if field is not None:
        field.errors = [*list(field.errors or []), message(exc)]
    else:
        form.form_errors.append(message(exc))


def saved(
    form: FlaskForm,
    action: Callable[[], Any],
    *,
    rerender: Callable[[FlaskForm, int], Any],
    done: str | Callable[[Any], str],
    then: str | Callable[[Any], str],
) -> Any:
    """Run a form's service: on success say `done` and go to `then` (either may be built from the
    service's result, after it ran); when the service refuses, show the form again with the
    message next to the field it named and the refusal's status (422 a bad value, 409 a clash
    or a wrong state): nothing was saved."""
    try:
        result = action()
    except REFUSALS as exc:
        attach_error(form, exc)
        return rerender(form, exc.status)
    flash(done(result) if callable(done) else done, "success")
    return redirect(then(result) if callable(then) else then)


def uploaded(file: Any, limit: int) -> tuple[bytes, str | None]:
    """An uploaded file's bytes, read up to one byte past `limit` (so the service can tell the file
    is too large without reading all of it), and the name the browser gave; empty without a file."""
    return (file.stream.read(limit + 1) if file else b""), getattr(file, "filename", None)
