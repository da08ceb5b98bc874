"""Step messages are localized from the Babel catalogs; keys and unknown locales fall back to English."""

from __future__ import annotations

import pytest

from envclone.locales import available_locales, translator_for
from envclone.locales.translator import _catalog

KEY = "Login to target environment"


@pytest.mark.parametrize(
    ("header", "locale", "message"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr", "Connexion à l'environnement cible"),
        ("de", "de", "Anmeldung bei der Zielumgebung"),
        ("es-ES", "es", "Inicio de sesión en el entorno de destino"),
        ("ja-JP", "ja", "ターゲット環境へのログイン"),
        ("en-US", "en", KEY),
        ("es;q=0.5, en;q=0.9", "en", KEY),
        ("zh-CN", "en", KEY),
        (None, "en", KEY),
    ],
)
def test_negotiates_locale_from_accept_language(header: str | None, locale: str, message: str) -> None:
    tr = translator_for(header)
    assert tr.locale == locale
    assert tr(KEY) == message


def test_every_catalog_translates_the_same_keys() -> None:
    locales = [loc for loc in available_locales() if loc != "en"]
    assert set(locales) >= {"fr", "de", "es", "ja"}
    keys = {loc: set(_catalog(loc)) for loc in locales}
    first = keys[locales[0]]
    assert all(k == first for k in keys.values())
    assert "Restoring Environment Backup" in first


def test_unknown_key_is_returned_unchanged() -> None:
    assert translator_for("fr")("Some new step") == "Some new step"
