"""Every domain error code raised anywhere in app/ has its sentence in app/web/messages.py.

The codes are read from the source: every call of a DomainError subclass (`NotFound(...)`,
`ValidationFailed(...)`, a domain's own subclass) whose first argument is a literal string,
whether raised at once or built first. The keyword arguments of each call must supply the
sentence's %(placeholders)s, or the message would show without its details.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

import app as app_package
from app.core.errors import DomainError
from app.web.messages import GENERIC, MESSAGES, message

APP_DIR = Path(app_package.__file__).parent


def _error_classes() -> set[str]:
    for module in pkgutil.walk_packages([str(APP_DIR)], prefix="app."):
        importlib.import_module(module.name)
    names, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


@dataclass(frozen=True)
class Raised:
    code: str
    where: str
    keywords: frozenset[str] | None  # None: **kwargs, unknown


def raised_codes() -> list[Raised]:
    classes = _error_classes()
    found = []
    for path in sorted(APP_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            first = node.args[0]
            if name in classes and isinstance(first, ast.Constant) and isinstance(first.value, str):
                keywords = (
                    None if any(k.arg is None for k in node.keywords) else frozenset(k.arg for k in node.keywords)
                )
                found.append(Raised(first.value, f"{path.relative_to(APP_DIR.parent)}:{node.lineno}", keywords))
    return found


def test_the_scan_finds_the_codes_we_know():
    codes = {r.code for r in raised_codes()}
    assert {"email_taken", "unauthorized", "not_found", "token_already_revoked", "job_kind_unknown"} <= codes


def test_every_raised_code_has_a_message():
    missing = sorted({(r.code, r.where) for r in raised_codes() if r.code not in MESSAGES})
    assert not missing, "codes without a sentence in app/web/messages.py MESSAGES: " + ", ".join(
        f"{code} ({where})" for code, where in missing
    )


def _msgid(code: str) -> str:
    """The untranslated sentence (a lazy string keeps it as its first argument)."""
    value = MESSAGES[code]
    return value._args[0] if hasattr(value, "_args") else str(value)


def test_every_call_supplies_the_placeholders_of_its_message():
    problems, checked = [], 0
    for r in raised_codes():
        if r.code not in MESSAGES or r.keywords is None:
            continue
        needed = set(re.findall(r"%\((\w+)\)s", _msgid(r.code)))
        checked += bool(needed)
        if needed - r.keywords:
            problems.append(f"{r.code} at {r.where} lacks {sorted(needed - r.keywords)}")
    assert checked, "no call with placeholders was checked"
    assert not problems, problems


def test_message_fills_in_parameters_and_falls_back(app):
    with app.test_request_context():
        assert message(DomainError("too_long", maximum=100)) == "This is too long (at most 100 characters)."
        assert message(DomainError("no_such_code_anywhere")) == str(GENERIC % {"code": "no_such_code_anywhere"})
