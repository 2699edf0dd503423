"""Every string the code and templates mark for translation has its French translation: a new
string without one fails here (run `make translations` and fill the .po file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "app" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"


def _extract(tmp_path: Path) -> set:
    """The msgids `make translations` would extract, with the Makefile's keywords."""
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_ngettext:1,2"]
        + ["-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(handle) if m.id}


def test_every_marked_string_has_a_french_translation(tmp_path):
    with PO.open("rb") as handle:
        translated = {
            (m.id if isinstance(m.id, str) else tuple(m.id))
            for m in read_po(handle)
            if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, list | tuple) else m.string)
        }
    missing = sorted(map(str, _extract(tmp_path) - translated))
    assert len(translated) > 1000
    assert not missing, f"{len(missing)} string(s) without French; run `make translations`: {missing[:8]}"
