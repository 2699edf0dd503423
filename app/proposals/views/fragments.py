"""HTML the staff list prints dozens of times a page, built in Python (bench B3).

Through Jinja, the staff list's 50-row table and its filter's ~80 options cost most of the
page's rendering: every cell an `escape`, a `Markup` and a generator step, ~1,600 pieces
joined a page. Here each row is one f-string over markupsafe's C escape and the whole table
body one `Markup`; the template keeps the page around it (headings, form, pager) and says
where each fragment goes. Every value is escaped here: what goes into the f-strings is
`escape(...)` (the standard library's: a plain string, no `Markup` object per cell) or an int.
A filter's options are the same on every page of a call: kept per (choices, selected).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from html import escape

from flask_babel import gettext as _
from markupsafe import Markup

from app.proposals.queries import ProposalRow


def proposal_rows(items: Sequence[ProposalRow], *, proposal_url: str, status_labels: Mapping[str, str]) -> Markup:
    """The `<tr>`s of the staff list: reference (a link to the proposal), title, PI with
    their institution, team countries, "code (shifts)" per request, total shifts, status."""
    if not items:
        return Markup(f'<tr><td colspan="7">{escape(_("No proposals match."))}</td></tr>')
    href = escape(proposal_url)
    draft = escape(_("draft"))
    out = []
    for p in items:
        institution = (
            f'<br><span class="small text-body-secondary">{escape(p.pi_institution)}</span>' if p.pi_institution else ""
        )
        status = p.status.value if hasattr(p.status, "value") else p.status
        out.append(
            f'<tr>\n    <td><a href="{href}{int(p.id)}">{escape(p.reference) if p.reference else draft}</a></td>\n'
            f"    <td>{escape(p.title)}</td>\n"
            f"    <td>{escape(p.pi_name or '')}{institution}</td>\n"
            f"    <td>{escape(p.countries)}</td>\n"
            f"    <td>{escape(p.instruments)}</td>\n"
            f"    <td>{int(p.shifts)}</td>\n"
            f"    <td>{escape(status_labels.get(status, status))}</td>\n  </tr>\n"
        )
    return Markup("".join(out))


def option_tags(choices: Iterable[tuple[object, object]], selected: object = None) -> Markup:
    """`<option>`s of a filter's `<select>`: (value, label) pairs, the one equal to `selected`
    marked selected (compared as text: a query string's value against an id)."""
    return _options(
        tuple((str(value), str(label)) for value, label in choices), "" if selected is None else str(selected)
    )


@functools.lru_cache(maxsize=512)
def _options(choices: tuple[tuple[str, str], ...], chosen: str) -> Markup:
    return Markup(
        "".join(
            f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>{escape(label)}</option>'
            for value, label in choices
        )
    )
