"""Loads the .po catalogs once (no compile step: the .po files are the source) and negotiates a
locale from Accept-Language with Babel."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from babel import Locale
from babel.messages.pofile import read_po

DEFAULT = "en"


class Translator:
    def __init__(self, locale: str, messages: dict[str, str]) -> None:
        self.locale = locale
        self._messages = messages

    def __call__(self, key: str) -> str:
        return self._messages.get(key) or key


@cache
def available_locales() -> tuple[str, ...]:
    root = files("envclone.locales")
    found = [entry.name for entry in root.iterdir() if entry.joinpath("LC_MESSAGES", "envclone.po").is_file()]
    return (DEFAULT, *sorted(found))


@cache
def _catalog(locale: str) -> dict[str, str]:
    if locale == DEFAULT:
        return {}
    path = files("envclone.locales").joinpath(locale, "LC_MESSAGES", "envclone.po")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def _preferences(header: str) -> list[str]:
    """Language tags from an Accept-Language header, best first (q-values honoured)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, index, tag.replace("-", "_")))
    return [tag for _, _, tag in sorted(ranked)]


def translator_for(accept_language: str | None, default: str = DEFAULT) -> Translator:
    chosen = None
    if accept_language:
        negotiated = Locale.negotiate(_preferences(accept_language), list(available_locales()), sep="_")
        chosen = negotiated.language if negotiated else None
    locale = chosen or (default.split("_")[0] if default.split("_")[0] in available_locales() else DEFAULT)
    return Translator(locale, _catalog(locale))
