"""Catalogs: every key used is translated everywhere, placeholders agree, locales resolve."""

from __future__ import annotations

import string
from functools import cache

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, I18n, Translator, match_language, po_path
from tests.support.catalog import used_keys


@cache
def catalog(language: str) -> dict[str, str]:
    """key -> msgstr of one language's .po source."""
    with po_path(language).open("rb") as source:
        messages = read_po(source)
    return {str(message.id): str(message.string) for message in messages if message.id}


def placeholders(message: str) -> set[str]:
    """The `{named}` fields of a str.format message."""
    return {field for _, field, _, _ in string.Formatter().parse(message) if field is not None}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_used_key_is_translated(language: str) -> None:
    messages = catalog(language)
    missing = sorted(key for key in used_keys() if not messages.get(key, "").strip())
    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_no_keys_the_code_does_not_use(language: str) -> None:
    unused = sorted(set(catalog(language)) - used_keys())
    assert unused == []


def test_placeholders_agree_across_languages() -> None:
    disagreements = {
        key: {language: sorted(placeholders(catalog(language)[key])) for language in LANGUAGES}
        for key in used_keys()
        if len({frozenset(placeholders(catalog(language)[key])) for language in LANGUAGES}) > 1
    }
    assert disagreements == {}


def test_placeholders_are_named() -> None:
    """`{}` or `{0}` would need positional arguments, which Translator never passes."""
    positional = {
        (language, key)
        for language in LANGUAGES
        for key, message in catalog(language).items()
        if any(field == "" or field.isdigit() for field in placeholders(message))
    }
    assert positional == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_serves_the_po_text(language: str) -> None:
    """What the bot says is what the .po says (a stale .mo would answer with bare keys)."""
    translate = Translator(language)
    wrong = {
        key: translate(key) for key, text in catalog(language).items() if translate(key) != text
    }
    assert wrong == {}


def test_languages_really_differ() -> None:
    """A sample of keys reads differently in each language (no copy-pasted catalogs)."""
    for key in ("language.saved", "roles.you_got", "profile.title", "members.none_found"):
        texts = {catalog(language)[key] for language in LANGUAGES}
        assert len(texts) == len(LANGUAGES), key


@pytest.mark.parametrize(
    ("language_code", "expected"),
    [
        ("zh-hans", "zh-Hans"),
        ("zh-cn", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh-sg", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("zh-tw", "zh-Hant"),
        ("zh-hk", "zh-Hant"),
        ("zh-mo", "zh-Hant"),
        ("zh-hant", "zh-Hant"),
        ("zh-Hant-TW", "zh-Hant"),
        ("en", "en"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("fr", "default"),
        ("ja", "default"),
        ("", "default"),
        (None, "default"),
    ],
)
def test_match_language(language_code: str | None, expected: str) -> None:
    for default in ("zh-Hant", "en"):
        wanted = default if expected == "default" else expected
        assert match_language(language_code, default) == wanted


@pytest.fixture(scope="module")
def i18n() -> I18n:
    """Catalogs with Simplified Chinese as the deployment default."""
    return I18n("zh-Hans")


def test_resolve_prefers_the_members_choice(i18n: I18n) -> None:
    assert i18n.resolve("en", "zh-tw").language == "en"
    assert i18n.resolve("zh-Hant", "en-US").language == "zh-Hant"
    assert i18n.resolve("zh-Hans", None).language == "zh-Hans"


def test_resolve_falls_back_to_telegram_then_default(i18n: I18n) -> None:
    assert i18n.resolve(None, "zh-tw").language == "zh-Hant"
    assert i18n.resolve(None, "en-US").language == "en"
    assert i18n.resolve("klingon", "en").language == "en"
    assert i18n.resolve(None, "fr").language == "zh-Hans"
    assert i18n.resolve(None, None).language == "zh-Hans"


def test_translator_fills_placeholders(i18n: I18n) -> None:
    assert i18n.get("en")("input.too_long", limit=40, count=41) == catalog("en")[
        "input.too_long"
    ].format(limit=40, count=41)
    assert "40" in i18n.get("zh-Hans")("input.too_long", limit=40, count=41)
    assert "41" in i18n.get("zh-Hant")("input.too_long", limit=40, count=41)


def test_get_unknown_language_gives_the_default(i18n: I18n) -> None:
    assert i18n.get("de").language == "zh-Hans"
    assert i18n.get(None).language == "zh-Hans"
