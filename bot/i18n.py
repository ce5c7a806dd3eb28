"""Translations from gettext catalogs (`bot/locales/<locale>/LC_MESSAGES/unionbot.po`).

Messages are symbolic keys (`join.ask_name`) with `{named}` placeholders; every key must be in
every catalog (a test checks). The locale comes from the member's choice, else Telegram's
`language_code`, else the deployment default.
"""

from __future__ import annotations

import gettext
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "unionbot"
LANGUAGES = ("zh-Hans", "zh-Hant", "en")
_TRADITIONAL_TAGS = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")


def catalog_dir(language: str) -> str:
    """Directory name of a language's catalog (gettext wants underscores)."""
    return language.replace("-", "_")


def po_path(language: str) -> Path:
    """Path of a language's .po source."""
    return LOCALES_DIR / catalog_dir(language) / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compiled(language: str) -> Path:
    po = po_path(language)
    mo = po.with_suffix(".mo")
    # `make` compiles catalogs; this keeps a developer's edited .po from going stale.
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        with po.open("rb") as source:
            catalog = read_po(source, locale=catalog_dir(language))
        with mo.open("wb") as target:
            write_mo(target, catalog)
    return mo


def match_language(language_code: str | None, default: str) -> str:
    """Map a Telegram language_code (IETF tag) to one of our languages."""
    if not language_code:
        return default
    tag = language_code.lower()
    if tag.startswith(_TRADITIONAL_TAGS):
        return "zh-Hant"
    if tag.startswith("zh"):
        return "zh-Hans"
    if tag.startswith("en"):
        return "en"
    return default


class Translator:
    """Looks up keys in one language's catalog and fills in placeholders."""

    def __init__(self, language: str) -> None:
        self.language = language
        with _compiled(language).open("rb") as mo:
            self._catalog = gettext.GNUTranslations(mo)

    def __call__(self, key: str, /, **params: object) -> str:
        """The message for `key` with `{placeholders}` filled in."""
        text = self._catalog.gettext(key)
        return text.format(**params) if params else text


class I18n:
    """All catalogs, loaded once at start-up."""

    def __init__(self, default_language: str) -> None:
        self.default_language = default_language
        self._translators = {language: Translator(language) for language in LANGUAGES}

    def get(self, language: str | None) -> Translator:
        """The translator for a language, falling back to the default."""
        return self._translators.get(language or "", self._translators[self.default_language])

    def resolve(self, chosen: str | None, language_code: str | None) -> Translator:
        """Member's choice, else Telegram's language_code, else the default."""
        if chosen in self._translators:
            return self._translators[chosen]
        return self.get(match_language(language_code, self.default_language))


# Short codes for callback data (which must be lowercase ASCII tokens).
SHORT_CODES = {"zhs": "zh-Hans", "zht": "zh-Hant", "en": "en"}
CODE_OF = {language: code for code, language in SHORT_CODES.items()}
