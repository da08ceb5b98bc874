"""Babel message catalogs (``<lang>/LC_MESSAGES/envclone.po``) for operation step messages, and
the translator chosen from an Accept-Language header. Step keys (English) are the message ids, so
English needs no catalog and keys stay stable for scripts."""

from envclone.locales.translator import Translator, available_locales, translator_for

__all__ = ["Translator", "available_locales", "translator_for"]
