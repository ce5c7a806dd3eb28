"""Words a union secretary would write, kept by the catalogs and by what the code renders.

The catalog rules read every text of the three catalogs; the rendered checks drive the real
application (or the calendar job) and look at what a person actually receives: the union's name
in the reader's language, the year a summary is of, a status said as a sentence, a decision that
names what was decided.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.callback import pack
from bot.i18n import LANGUAGES, catalog_dir, po_path
from models.calendar import EntryKind
from models.members import Role
from models.organizations import bind_committee_chat
from scheduler.calendar_defaults import DEFAULTS
from scheduler.calendar_jobs import recipients_for
from tests.support.factories import make_member
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person, group_chat
from tests.test_activities_chat import create
from tests.test_calendar import entry, runtime_of

ROOT = Path(__file__).resolve().parent.parent
CHINESE = ("zh-Hans", "zh-Hant")

# Greetings the union sends a person: every default greeting's text.
GREETING_KEYS = [
    f"calendar.{default.key}.text" for default in DEFAULTS if default.kind == EntryKind.GREETING
]
# Placeholders that stand for a person's or a thing's name (not a number, date or code): no
# space between them and a Chinese character, and never inside （） (a name may carry its own:
# 陈建国（退休教师）, 王芳（#12，教务处）).
NAME_LIKE = "|".join(
    [
        *("name", "who", "names", "org", "department", "title", "label", "place"),
        *("category", "activity", "form", "purpose", "about"),
    ]
)
PERSON_LIKE = "name|who|names|about"
CJK = r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]"
# Texts for the operator at a terminal (settings, the sandbox, the roster import, the CLI):
# the codes there are what the operator types.
OPERATOR_PREFIXES = ("settings.", "sandbox.", "roster.", "cli.")


@cache
def catalog(language: str) -> dict[str, str]:
    """key -> text of one language's catalog."""
    with po_path(language).open("rb") as source:
        read = read_po(source, locale=catalog_dir(language))
    return {str(message.id): str(message.string) for message in read if message.id}


def texts(*languages: str) -> list[tuple[str, str, str]]:
    """(language, key, text) of every catalog text in these languages."""
    return [
        (language, key, text)
        for language in languages
        for key, text in sorted(catalog(language).items())
    ]


def broken(rule: str, found: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """What breaks `rule` (every hit: no key is exempt)."""
    return found


# ---- the catalogs ------------------------------------------------------------------------


def test_ledger_is_taizhang_everywhere() -> None:
    """台账 (zh-Hant 台賬), never 台帐 / 臺帳 / 台帳: catalogs, code, docs."""
    wrong = re.compile("台帐|臺帳|台帳")
    assert broken("ledger", [hit for hit in texts(*LANGUAGES) if wrong.search(hit[2])]) == []
    sources = [
        path
        for folder in ("bot", "handlers", "models", "scheduler", "docs")
        for path in (ROOT / folder).rglob("*")
        # A migration quotes the texts it replaces, 台帐 included.
        if path.suffix in {".py", ".md"} and "migrations" not in path.parts
    ]
    assert [p.name for p in [*sources, ROOT / "README.md"] if wrong.search(p.read_text())] == []
    assert "台账" in catalog("zh-Hans")["menu.aidbooks"]
    assert "台賬" in catalog("zh-Hant")["menu.aidbooks"]


@pytest.mark.parametrize("key", GREETING_KEYS)
def test_greetings_say_nin_and_come_from_the_union(key: str) -> None:
    for language in CHINESE:
        text = catalog(language)[key]
        assert "你" not in text, (language, text)
        assert "学校" not in text and "學校" not in text, (language, text)
        assert "{org}" in text or "工会" in text or "工會" in text, (language, text)
    assert "{org}" in catalog("en")[key]


def test_no_english_codes_inside_chinese_texts() -> None:
    """No `hospital`-like codes: lowercase words are allowed only as placeholders, commands
    with their arguments (/aidrules notice on|off), URLs, or in operator texts."""
    allowed = re.compile(
        r"\{\{[^{}]*\}\}|\{\w+\}|https?://\S+|/\w+(?: [a-z|\-]+(?![\w\u4e00-\u9fff]))*"
    )
    hits = []
    for language, key, text in texts(*CHINESE):
        if key.startswith(OPERATOR_PREFIXES):
            continue
        codes = re.findall(r"(?<![A-Za-z_])[a-z_]{3,}(?![A-Za-z_])", allowed.sub(" ", text))
        if codes:
            hits.append((language, key, " ".join(codes)))
    assert broken("codes", hits) == []


def _nested(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "（":
            depth += 1
            if depth > 1:
                return True
        elif char == "）":
            depth = max(depth - 1, 0)
    return False


def test_no_nested_full_width_brackets() -> None:
    """Neither written nor made by a name that carries its own （） inside a bracket."""
    in_brackets = re.compile(r"（[^（）]*\{(" + PERSON_LIKE + r")\}[^（）]*）")
    hits = [hit for hit in texts(*CHINESE) if _nested(hit[2]) or in_brackets.search(hit[2])]
    assert broken("brackets", hits) == []


def test_women_staff_and_participation_rate() -> None:
    hits = [
        hit
        for hit in texts(*CHINESE)
        if re.search("(?<!教)女职工|(?<!教)女職工|到场率|到場率", hit[2])
    ]
    assert broken("words", hits) == []
    assert catalog("zh-Hans")["activity.who.women"] == "女教职工"


def test_no_space_between_a_name_and_chinese() -> None:
    """「{name}老师」, 「由{who}同意」: a name sits in the sentence (numbers keep their spaces)."""
    placeholder = r"\{(" + NAME_LIKE + r")\}"
    spaced = re.compile(CJK + " " + placeholder + "|" + placeholder + " " + CJK)
    assert broken("spaces", [hit for hit in texts(*CHINESE) if spaced.search(hit[2])]) == []


def test_the_one_who_pays_is_the_union_treasurer() -> None:
    """经审 audits; 工会财务（经费管理） pays: the role's name and every text naming it."""
    assert catalog("zh-Hans")["role.treasurer"] == "工会财务（经费管理）"
    assert catalog("zh-Hant")["role.treasurer"] == "工會財務（經費管理）"
    old = re.compile("经费管理员|經費管理員|经费审查/财务|經費審查/財務")
    assert broken("treasurer", [hit for hit in texts(*CHINESE) if old.search(hit[2])]) == []
    assert "工会财务（经费管理）" in catalog("zh-Hans")["aid.treasurer_only"]


def test_proposals_are_reviewed_by_the_proposals_committee() -> None:
    """提案工作委员会 throughout the proposal flow (joining the union is the union's)."""
    hits = [
        hit
        for hit in texts(*CHINESE)
        if hit[1].startswith(("proposal.", "congress."))
        and hit[1] != "proposal.cosign_join_first"
        and re.search("工会委员会|工會委員會", hit[2])
    ]
    assert broken("proposal_reviewer", hits) == []
    for key in ("proposal.receipt_submitted", "proposal.told_submitted"):
        assert "提案工作委员会" in catalog("zh-Hans")[key]


def test_membership_is_transferred_out_not_deactivated() -> None:
    hans = catalog("zh-Hans")
    assert hans["members.deactivate"] == "会籍转出（调离/退会）"
    assert hans["status.inactive"] == "已转出"
    assert hans["members.reactivate"] == "恢复会籍"
    membership = ("members.", "status.", "join.inactive")
    hits = [
        hit
        for hit in texts(*CHINESE)
        if hit[1].startswith(membership) and re.search("停用|已停用", hit[2])
    ]
    assert broken("membership", hits) == []


def test_a_rating_is_not_starred() -> None:
    """⭐ is praise: a text that shows any rating (不满意 too) has a neutral icon."""
    hits = [hit for hit in texts(*LANGUAGES) if "{rating}" in hit[2] and "⭐" in hit[2]]
    assert broken("star", hits) == []


def test_english_mine_headings_speak_to_one_person() -> None:
    english = catalog("en")
    titles = {key: text for key, text in english.items() if key.endswith(".mine_title")}
    assert titles and all("Your " in text and "My " not in text for text in titles.values())


# ---- what the code renders ---------------------------------------------------------------


async def test_greetings_name_the_union_in_the_readers_language(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    people = [
        await make_member(
            bot.db, org_id=bot.org_id, person=Person(7101, "A", "zh-hans"), name="王芳"
        ),
        await make_member(
            bot.db,
            org_id=bot.org_id,
            person=Person(7102, "B", "zh-hant"),
            name="陳明",
            language="zh-Hant",
        ),
        await make_member(
            bot.db, org_id=bot.org_id, person=Person(7103, "C", "en"), name="Ann", language="en"
        ),
    ]
    new_year = await entry(bot, "new_year")

    sent = {
        recipient.chat_id: recipient.text
        for recipient in await recipients_for(runtime, new_year, date(2027, 1, 1))
    }

    assert sent[7101] == "王芳老师，新年快乐！实验中学工会祝您在新的一年里身体健康、工作顺利。"
    assert sent[7102] == "陳明老師，新年快樂！學校工會祝您在新的一年裡身體健康、工作順利。"
    assert (
        sent[7103]
        == "Happy New Year, Ann! Good health and a good year to you, from the school union."
    )
    assert all(person.telegram_user_id in sent for person in people)


async def test_a_greeting_without_the_readers_language_keeps_one_language(
    bot: BotHarness,
) -> None:
    """A text only written in Chinese reaches an English reader signed in Chinese, not mixed."""
    runtime = runtime_of(bot)
    await make_member(
        bot.db, org_id=bot.org_id, person=Person(7201, "C", "en"), name="Ann", language="en"
    )
    greeting = await entry(bot, "labour_day")
    greeting.messages = {"zh-Hans": "{name}老师，节日快乐！——{org}"}

    [recipient] = await recipients_for(runtime, greeting, date(2027, 5, 1))

    assert recipient.text == "Ann老师，节日快乐！——实验中学工会"


async def test_the_welcome_names_the_union_in_the_newcomers_language(bot: BotHarness) -> None:
    await bot.say(Person(7301, "Ann", "en"), "/start")

    assert "This is the union desk of the school union." in bot.telegram.last(7301).text


async def test_english_member_is_told_you_have_a_seat(bot: BotHarness) -> None:
    committee = Person(1002, "Liu", "zh-hans")
    await make_member(
        bot.db, org_id=bot.org_id, person=committee, name="刘委员", roles=[Role.COMMITTEE]
    )
    reader = Person(7401, "Ann", "en")
    await make_member(bot.db, org_id=bot.org_id, person=reader, name="Ann", language="en")
    activity = await create(bot, capacity="1")
    await bot.say(reader, "/activities")
    assert "You have not signed up." in bot.telegram.last(reader.id).text

    await bot.press(reader, pack("av", "su", activity.id or 0))
    await bot.say(reader, "/activities")

    text = bot.telegram.last(reader.id).text
    assert text.endswith("You have a seat.") and "Your status" not in text


async def test_a_join_approval_names_who_was_approved(bot: BotHarness) -> None:
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    reviewer = Person(1002, "Liu", "en")
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=reviewer,
        name="刘委员",
        roles=[Role.COMMITTEE],
        language="en",
    )
    teacher = Person(7501, "Wang", "en")
    await bot.say(teacher, "/start")
    await bot.press(teacher, pack("reg", "lang", "en"))
    await bot.say(teacher, "Wang Fang")
    await bot.say(teacher, "Grade 8 team")
    await bot.press(teacher, pack("reg", "gender", "female"))
    await bot.say(teacher, "1985-03-08")
    await bot.press(teacher, pack("reg", "retired", "no"))
    await bot.press(teacher, pack("reg", "confirm", "yes"))
    card = bot.telegram.last(COMMITTEE_GROUP_ID)

    await bot.press(
        reviewer, card.button_data("批准"), chat=group_chat(COMMITTEE_GROUP_ID), message_id=1000
    )

    answer = bot.telegram.answers()[-1].params.get("text", "")
    assert answer == "Join request of Wang Fang approved."


def test_the_union_says_nin_to_everyone() -> None:
    """Every Chinese text says 您, never 你 (a flow that mixes the two reads as careless)."""
    assert [hit for hit in texts(*CHINESE) if "你" in hit[2]] == []
