"""A new name or department in /me waits for the committee (issue 15, item 7).

A member renamed himself 赵校长 in /me and his named suggestion's card showed that name. Now the
change goes to the committee as a desk card (Approve / Reject), the old name stays on every card
until it is approved, the member is told it waits and then the outcome, and cards show the
member's number beside the name. Everything goes through the real application.
"""

from __future__ import annotations

from functools import cache

from sqlmodel import select

from bot.i18n import I18n, Translator
from handlers.members.buttons import ProfileChangeDecision, ProfileEdit
from models.desk import DeskCard
from models.members import JoinStatus, Member, ProfileChangeRequest, Role
from tests.support.factories import make_member
from tests.support.fake_telegram import Call
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person
from tests.test_joining import register
from tests.test_suggestions import (
    AUTHOR,
    AUTHOR_DEPARTMENT,
    AUTHOR_NAME,
    COMMITTEE,
    GROUP,
    OTHER_COMMITTEE,
    file_item,
    setup_school,
)

IMPOSTOR_NAME = "赵校长"


@cache
def tr(language: str = "zh-Hans") -> Translator:
    """What the bot says in `language`."""
    return I18n(language).get(language)


async def stored(bot: BotHarness, member_id: int | None) -> Member:
    """The member as stored now."""
    async with bot.db() as session:
        member = await session.get(Member, member_id)
    assert member is not None
    return member


async def requests(bot: BotHarness) -> list[ProfileChangeRequest]:
    """Every change request stored."""
    async with bot.db() as session:
        return list((await session.exec(select(ProfileChangeRequest))).all())


async def ask_for(bot: BotHarness, person: Person, field: str, value: str) -> None:
    """`person` edits a text field in /me and types the new value."""
    await bot.press(person, ProfileEdit(field).pack())  # type: ignore[arg-type]
    await bot.say(person, value)


def change_card(bot: BotHarness, request_id: int) -> Call:
    """The change card as last posted to the committee group."""
    title = tr()("profile_change.card_title", id=request_id)
    cards = [
        call for call in bot.telegram.sent("sendMessage", COMMITTEE_GROUP_ID) if title in call.text
    ]
    assert cards, f"no card {title!r} in the group"
    return cards[-1]


async def decide(bot: BotHarness, person: Person, action: str, request_id: int) -> None:
    """`person` presses Approve or Reject on the change card in the committee group."""
    await bot.press(person, ProfileChangeDecision(action, request_id).pack(), chat=GROUP)  # type: ignore[arg-type]


def last_alert(bot: BotHarness) -> str:
    """The text of the latest button answer."""
    return str(bot.telegram.answers()[-1].params.get("text", ""))


async def test_a_new_name_waits_and_cards_keep_the_old_one_until_rejected(
    bot: BotHarness,
) -> None:
    author = await setup_school(bot)
    committee = await stored(bot, (await _member_of(bot, COMMITTEE)).id)

    await bot.press(AUTHOR, ProfileEdit("name").pack())
    assert tr()("profile_change.needs_approval") in bot.telegram.last(AUTHOR.id).text
    await bot.say(AUTHOR, IMPOSTOR_NAME)

    # Stored as a request; the member record keeps the old name.
    assert (await stored(bot, author.id)).real_name == AUTHOR_NAME
    [request] = await requests(bot)
    assert (request.member_id, request.status) == (author.id, JoinStatus.PENDING)
    assert (request.old_name, request.new_name, request.new_department) == (
        AUTHOR_NAME,
        IMPOSTOR_NAME,
        None,
    )
    change = tr()("profile_change.name_line", old=AUTHOR_NAME, new=IMPOSTOR_NAME)
    assert bot.telegram.last(AUTHOR.id).text == tr()("profile_change.sent", change=change)

    # The committee gets a card with the member's number, the change and the two buttons.
    card = change_card(bot, request.id or 0)
    assert f"{AUTHOR_NAME}（#{author.id}）" in card.text
    assert change in card.text
    assert card.buttons() == [
        (tr()("profile_change.approve"), ProfileChangeDecision("approve", request.id or 0).pack()),
        (tr()("profile_change.reject"), ProfileChangeDecision("reject", request.id or 0).pack()),
    ]
    async with bot.db() as session:
        recorded = (await session.exec(select(DeskCard).where(DeskCard.kind == "profile"))).all()
    assert [(row.item_id, row.chat_id) for row in recorded] == [(request.id, COMMITTEE_GROUP_ID)]

    # Meanwhile a named suggestion's card shows the old name with the number, never the new one.
    await file_item(bot, body="食堂晚餐太早，能否推迟到六点？", anonymous=False)
    suggestion_card = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert f"{AUTHOR_NAME}（#{author.id}） · {AUTHOR_DEPARTMENT}" in suggestion_card.text
    assert all(IMPOSTOR_NAME not in call.text for call in _cards_but_change_cards(bot))

    # /me says what waits; a second change is refused at the press, before anything is typed.
    await bot.say(AUTHOR, "/me")
    me = bot.telegram.last(AUTHOR.id).text
    assert tr()("profile.name", value=AUTHOR_NAME) in me
    assert tr()("profile_change.waiting", change=change) in me
    await bot.press(AUTHOR, ProfileEdit("dept").pack())
    refusal = bot.telegram.last(AUTHOR.id).text
    assert refusal == tr()("profile_change.already_pending") + "\n" + change
    await bot.say(AUTHOR, "校长室")  # no form is waiting: nothing is asked for or stored
    assert len(await requests(bot)) == 1
    assert (await stored(bot, author.id)).department == AUTHOR_DEPARTMENT

    # Rejected: the old name stays, the card says who decided, the member is told.
    await decide(bot, COMMITTEE, "reject", request.id or 0)
    assert (await stored(bot, author.id)).real_name == AUTHOR_NAME
    [decided] = await requests(bot)
    assert (decided.status, decided.decided_by_member_id) == (JoinStatus.REJECTED, committee.id)
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert f"刘委员（#{committee.id}）" in edited.text and edited.buttons() == []
    assert bot.telegram.last(AUTHOR.id).text == tr()("profile_change.you_rejected", change=change)

    # A second decision on the same card is refused and changes nothing.
    await decide(bot, OTHER_COMMITTEE, "approve", request.id or 0)
    assert last_alert(bot) == tr()("desk.already_decided")
    assert (await stored(bot, author.id)).real_name == AUTHOR_NAME


async def test_an_approved_department_takes_effect_and_the_member_is_told(bot: BotHarness) -> None:
    author = await setup_school(bot)

    await ask_for(bot, AUTHOR, "dept", "校长室")
    [request] = await requests(bot)
    assert (request.new_name, request.new_department) == (None, "校长室")
    assert (await stored(bot, author.id)).department == AUTHOR_DEPARTMENT

    await decide(bot, COMMITTEE, "approve", request.id or 0)

    member = await stored(bot, author.id)
    assert (member.real_name, member.department) == (AUTHOR_NAME, "校长室")
    change = tr()("profile_change.department_line", old=AUTHOR_DEPARTMENT, new="校长室")
    assert bot.telegram.last(AUTHOR.id).text == tr()("profile_change.you_approved", change=change)
    assert last_alert(bot) == f"已批准{AUTHOR_NAME}的资料修改。"
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert "✅" in edited.text and "刘委员（#" in edited.text and edited.buttons() == []

    # The member may ask for the next change once this one is decided.
    await ask_for(bot, AUTHOR, "name", "王芳")
    assert [row.status for row in await requests(bot)] == [JoinStatus.APPROVED, JoinStatus.PENDING]


async def test_nobody_decides_their_own_change(bot: BotHarness) -> None:
    await setup_school(bot)
    committee = await _member_of(bot, COMMITTEE)

    await ask_for(bot, COMMITTEE, "name", IMPOSTOR_NAME)
    [request] = await requests(bot)

    await decide(bot, COMMITTEE, "approve", request.id or 0)

    assert last_alert(bot) == tr()("profile_change.not_own")
    assert (await stored(bot, committee.id)).real_name == "刘委员"
    assert [row.status for row in await requests(bot)] == [JoinStatus.PENDING]

    await decide(bot, OTHER_COMMITTEE, "approve", request.id or 0)

    assert (await stored(bot, committee.id)).real_name == IMPOSTOR_NAME


async def test_only_the_committee_decides_a_change(bot: BotHarness) -> None:
    author = await setup_school(bot)
    await ask_for(bot, AUTHOR, "name", IMPOSTOR_NAME)
    [request] = await requests(bot)

    await decide(bot, AUTHOR, "approve", request.id or 0)

    assert last_alert(bot) == tr()("desk.not_committee")
    assert (await stored(bot, author.id)).real_name == AUTHOR_NAME
    assert [row.status for row in await requests(bot)] == [JoinStatus.PENDING]


async def test_a_forged_request_id_is_refused(bot: BotHarness) -> None:
    await setup_school(bot)

    await decide(bot, COMMITTEE, "approve", 999_999)

    assert last_alert(bot) == tr()("desk.item_not_found")
    assert await requests(bot) == []


async def test_the_same_value_again_asks_nobody(bot: BotHarness) -> None:
    await setup_school(bot)

    await ask_for(bot, AUTHOR, "name", AUTHOR_NAME)

    assert bot.telegram.last(AUTHOR.id).text == tr()("profile_change.same")
    assert await requests(bot) == []
    assert bot.telegram.sent("sendMessage", COMMITTEE_GROUP_ID) == []


async def test_a_birthday_edit_does_not_undo_an_approved_name(bot: BotHarness) -> None:
    """Gender, birthday and retired are saved directly and never write the name back."""
    author = await setup_school(bot)
    await ask_for(bot, AUTHOR, "name", "王芳")
    [request] = await requests(bot)
    await decide(bot, COMMITTEE, "approve", request.id or 0)

    await ask_for(bot, AUTHOR, "birthday", "1985-03-08")

    member = await stored(bot, author.id)
    assert (member.real_name, member.birth_month, member.birth_day) == ("王芳", 3, 8)


async def test_the_join_card_shows_the_applicant_number(bot: BotHarness) -> None:
    await setup_school(bot)
    teacher = Person(2050, "Wang", "en")

    await register(bot, teacher)

    applicant = await _member_of(bot, teacher)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert f"Wang Fang（#{applicant.id}）" in card.text


async def test_the_chair_is_told_in_english_and_the_card_stays_in_the_default_language(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    chair = await make_member(
        bot.db, org_id=bot.org_id, person=CHAIR, name="张主席", roles=[Role.CHAIR], language="en"
    )

    await ask_for(bot, CHAIR, "dept", "校办")

    change = tr("en")("profile_change.department_line", old="语文组", new="校办")
    assert bot.telegram.last(CHAIR.id).text == tr("en")("profile_change.sent", change=change)
    [request] = await requests(bot)
    assert f"张主席（#{chair.id}）" in change_card(bot, request.id or 0).text


# ---- helpers ---------------------------------------------------------------------------------


async def _member_of(bot: BotHarness, person: Person) -> Member:
    async with bot.db() as session:
        return (
            await session.exec(select(Member).where(Member.telegram_user_id == person.id))
        ).one()


def _cards_but_change_cards(bot: BotHarness) -> list[Call]:
    marker = tr()("profile_change.card_title", id="")
    return [
        call
        for call in bot.telegram.calls
        if call.chat_id == COMMITTEE_GROUP_ID
        and call.method in ("sendMessage", "editMessageText")
        and marker.strip() not in call.text
    ]
