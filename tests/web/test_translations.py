"""The French catalogue is compiled, shipped and chosen from Accept-Language."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import app as app_package

TRANSLATIONS = Path(app_package.__file__).parent / "translations"


def test_login_page_in_french(client):
    html = client.get("/login", headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="fr' in html
    assert "Se connecter" in html and "Mot de passe" in html
    assert "Se souvenir de moi sur cet appareil" in html
    assert "Les heures sont affichées dans le fuseau Europe/Zurich." in html
    assert "Remember me" not in html


def test_login_error_in_french(client):
    response = client.post(
        "/login", data={"email": "nobody@example.org", "password": "x"}, headers={"Accept-Language": "fr"}
    )
    assert response.status_code == 422
    assert "E-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_error_pages_in_french(client):
    page = client.get("/no-such-page", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Introuvable" in page and "Retour à la page d’accueil" in page


def test_english_stays_the_default(client):
    html = client.get("/login", headers={"Accept-Language": "es, ja"}).get_data(as_text=True)
    assert "Remember me on this device" in html


def _key(value):
    """Plural entries are tuples (ids) and lists (translations): make both comparable."""
    return tuple(value) if isinstance(value, list | tuple) else value


def _translated(message) -> bool:
    return any(message.string) if isinstance(message.string, list | tuple) else bool(message.string)


def test_the_compiled_catalogue_matches_the_po_file():
    po_path = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as po_file, po_path.with_suffix(".mo").open("rb") as mo_file:
        po = {_key(m.id): _key(m.string) for m in read_po(po_file) if m.id and _translated(m) and not m.fuzzy}
        mo = {_key(m.id): _key(m.string) for m in read_mo(mo_file) if m.id}
    stale = {msgid for msgid, text in po.items() if mo.get(msgid) != text}
    assert len(po) > 100
    assert not stale, f"run `make translations` and commit the .mo file: {sorted(map(str, stale))[:5]}"


def test_registration_and_facility_words_in_french(client):
    html = client.get("/register", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Recherchez votre établissement" in html and "Identifiant ORCID (facultatif)" in html
    assert "J’ai lu la politique de confidentialité et je l’accepte" in html
    assert "Search for your institution" not in html
    privacy = client.get("/privacy", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Ce que nous conservons" in privacy and "Vos droits" in privacy
