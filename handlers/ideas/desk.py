"""The committee's desk for rationalization proposals: /ideas [year] with the year's figures,
the review panel, the prize levels, the awards (by the ranking, then confirmed or moved), 采纳,
the winners published as a 公示 notice (the channel, every member, objections), and the year's
ideas as a spreadsheet.

The committee sees an average and a count per idea, never who gave which score.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from enum import IntEnum

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler, ConversationHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import Translator
from handlers.common import (
    ButtonRow,
    conversation,
    keyboard,
    member_buttons,
    refuse,
    require_committee,
    say,
    text_step,
    typed_text,
)
from handlers.ideas.buttons import IdeaDesk, IdeaItem, IdeaLevel, IdeaPage, PanelPick
from handlers.ideas.filing import idea_body, idea_label, today
from handlers.notices.publishing import Published, publish_generated
from handlers.review_desk import committee_press
from models.calendar import AudienceType
from models.errors import N_, DomainError
from models.exports import append_row
from models.ideas import (
    MIN_SCORES,
    Figures,
    Idea,
    IdeaYear,
    Standing,
    add_panelist,
    comments_of,
    confirm_awards,
    get_idea,
    mark_published,
    move_idea,
    panel_of,
    parse_prize_counts,
    propose_awards,
    remove_panelist,
    set_adopted,
    set_prizes,
    standings,
    winners_of,
    year_figures,
    year_of,
)
from models.members_queries import members_by_id
from models.notice_text import day_words
from models.notices import Notice, NoticeKind
from models.organizations import get_organization
from models.outbox import BroadcastKind, Recipient

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
PAGE = 10
_UNRANKED_SHOWN = 10  # numbers named in the awards' note on ideas with too few scores


class Prompt(IntEnum):
    """The desk's prompts."""

    NAME = 1
    PRIZES = 2


# ---- words -------------------------------------------------------------------------------


def level_name(tr: Translator, level: int) -> str:
    """一等奖, 二等奖, ..."""
    return tr(f"idea.level.{level}")


def figures_text(tr: Translator, figures: Figures) -> str:
    """共收到合理化建议54条，采纳12条，其中3条获一等奖，5条获二等奖，9条获三等奖。"""
    text = tr("idea.figures", received=figures.received, adopted=figures.adopted)
    won = [
        tr("idea.figures_prize", count=count, level=level_name(tr, level))
        for level, count in figures.prizes
        if count
    ]
    if won:
        text += tr("idea.figures_prizes", prizes=tr("idea.list_sep").join(won))
    return text + tr("idea.figures_end")


def _average(tr: Translator, row: Standing) -> str:
    if row.too_few:
        return tr("idea.too_few_scores", count=row.count, least=MIN_SCORES)
    if row.average is None:
        return tr("idea.no_scores")
    return tr("idea.average", average=f"{row.average:.2f}", count=row.count)


def _unranked_line(tr: Translator, ranked: Sequence[Standing]) -> str | None:
    """The ideas left out of the ranking for too few scores, by number (None: none)."""
    short = [row.idea.number for row in ranked if row.too_few]
    if not short:
        return None
    shown = tr("idea.list_sep").join(short[:_UNRANKED_SHOWN])
    if len(short) > _UNRANKED_SHOWN:
        shown = tr("idea.unranked_more", numbers=shown)
    return tr("idea.unranked", count=len(short), least=MIN_SCORES, numbers=shown)


def _prize_note(tr: Translator, idea: Idea, year: IdeaYear) -> str:
    if not idea.prize_level:
        return ""
    key = "idea.prize_final" if year.awarded_at else "idea.prize_draft"
    return " · " + tr(key, level=level_name(tr, idea.prize_level))


def _prizes_line(tr: Translator, year: IdeaYear) -> str:
    if not year.counts:
        return tr("idea.prizes_unset")
    parts = [
        tr("idea.prize_count", level=level_name(tr, level), count=count)
        for level, count in enumerate(year.counts, start=1)
    ]
    return tr("idea.prizes_line", prizes=tr("idea.list_sep").join(parts))


# ---- /ideas ------------------------------------------------------------------------------


def _year_argument(context: UnionContext) -> int:
    argument = context.args[0] if context.args else ""
    if argument.isascii() and argument.isdigit() and 2000 <= int(argument) <= 2100:
        return int(argument)
    return today(context).year


async def ideas_command(update: Update, context: UnionContext) -> None:
    """/ideas [year]: the year's figures and the committee's tools."""
    if await require_committee(update, context) is None:
        return
    await show_year(update, context, _year_argument(context))


async def open_from_menu(update: Update, context: UnionContext) -> None:
    """The committee's menu entry: this year's desk."""
    if update.callback_query is not None:
        await context.answer(update)
    if await require_committee(update, context) is None:
        return
    await show_year(update, context, today(context).year)


async def show_year(update: Update, context: UnionContext, year: int) -> None:
    """The year: figures, panel, prize levels, where the awards stand; the tools."""
    tr = context.tr
    async with context.db() as session:
        figures = await year_figures(session, org_id=context.org_id, year=year)
        row = await year_of(session, org_id=context.org_id, year=year)
        panel = await panel_of(session, org_id=context.org_id, year=year)
    names = "、".join(member.real_name for member in panel)
    lines = [
        tr("idea.desk_title", year=year),
        figures_text(tr, figures),
        tr("idea.panel_line", names=names, count=len(panel)) if panel else tr("idea.panel_unset"),
        _prizes_line(tr, row),
        tr("idea.awarded_on", date=row.awarded_at.astimezone(context.settings.zone).date())
        if row.awarded_at
        else tr("idea.not_awarded"),
    ]
    rows: list[ButtonRow] = [
        [(tr("idea.btn_list"), IdeaPage(year, 0)), (tr("idea.btn_panel"), IdeaDesk("panel", year))],
    ]
    if row.awarded_at is None:
        rows.append(
            [
                (tr("idea.btn_prizes"), IdeaDesk("prizes", year)),
                (tr("idea.btn_rank"), IdeaDesk("rank", year)),
            ]
        )
    rows.append([(tr("idea.btn_awards"), IdeaDesk("awards", year))])
    if row.awarded_at is not None:
        rows.append([(tr("idea.btn_publish"), IdeaDesk("pub", year))])
    rows.append([(tr("idea.btn_export"), IdeaDesk("xlsx", year))])
    await say(update, context, "\n".join(lines), keyboard(*rows))


async def desk_press(update: Update, context: UnionContext) -> None:
    """A tool of the year's desk (committee only, checked on every press)."""
    button = context.button_as(IdeaDesk)
    actor = await committee_press(update, context)
    if actor is None:
        return
    year = button.year
    try:
        if button.action == "rank":
            async with context.db() as session:
                await propose_awards(session, org_id=context.org_id, year=year, actor=actor)
            await context.answer(update, context.t("idea.ranked_toast"))
            await _show_awards(update, context, year)
        elif button.action == "award":
            await context.answer(update)
            await say(
                update,
                context,
                context.t("idea.award_confirm", year=year),
                keyboard(
                    [(context.t("idea.btn_award_yes"), IdeaDesk("awardok", year))],
                    [(context.t("idea.btn_award_back"), IdeaDesk("awards", year))],
                ),
            )
        elif button.action == "awardok":
            await _award(update, context, year)
        elif button.action == "pub":
            await _publish(update, context, year)
        elif button.action == "xlsx":
            await context.answer(update)
            await _export(update, context, year)
        elif button.action == "panel":
            await context.answer(update)
            await _show_panel(update, context, year)
        elif button.action == "awards":
            await context.answer(update)
            await _show_awards(update, context, year)
        else:
            await context.answer(update)
            await show_year(update, context, year)
    except DomainError as error:
        await refuse(update, context, error)


# ---- the ranked list and one idea --------------------------------------------------------


async def list_page(update: Update, context: UnionContext) -> None:
    """A page of the year's ideas, ranked by average, with a button each."""
    button = context.button_as(IdeaPage)
    if await committee_press(update, context) is None:
        return
    await context.answer(update)
    tr = context.tr
    async with context.db() as session:
        ranked = await standings(session, org_id=context.org_id, year=button.year)
        row = await year_of(session, org_id=context.org_id, year=button.year)
    if not ranked:
        await say(update, context, tr("idea.none_in_year", year=button.year))
        return
    lines = [tr("idea.list_title", year=button.year, total=len(ranked))]
    buttons: list[ButtonRow] = []
    for place, standing in enumerate(
        ranked[button.offset : button.offset + PAGE], start=button.offset + 1
    ):
        idea = standing.idea
        adopted = " · " + tr("idea.status.adopted") if idea.adopted else ""
        lines.append(
            f"{place}. {idea_label(idea)} · {_average(tr, standing)}"
            f"{_prize_note(tr, idea, row)}{adopted}"
        )
        buttons.append([(idea.number, IdeaItem("open", idea.id or 0))])
    nav: list[tuple[str, IdeaPage]] = []
    if button.offset > 0:
        nav.append((tr("idea.btn_prev"), IdeaPage(button.year, max(button.offset - PAGE, 0))))
    if button.offset + PAGE < len(ranked):
        nav.append((tr("idea.btn_next"), IdeaPage(button.year, button.offset + PAGE)))
    if nav:
        buttons.append(nav)
    await say(update, context, "\n".join(lines), keyboard(*buttons))


async def show_idea(update: Update, context: UnionContext, idea_id: int) -> None:
    """One idea for the committee: its author, its text, the average and count, the comments
    without names, its prize and adoption; the buttons to adopt and to move its prize."""
    tr = context.tr
    async with context.db() as session:
        idea = await get_idea(session, org_id=context.org_id, idea_id=idea_id)
        ranked = await standings(session, org_id=context.org_id, year=idea.year)
        row = await year_of(session, org_id=context.org_id, year=idea.year)
        comments = await comments_of(session, idea_id=idea_id)
        author = (await members_by_id(session, [idea.author_member_id])).get(idea.author_member_id)
    standing = next(s for s in ranked if s.idea.id == idea_id)
    who = f"{author.real_name}（{author.department}）" if author else "-"
    lines = [
        tr("idea.card_title", label=idea_label(idea)),
        tr("idea.card_author", who=who),
        "",
        idea_body(tr, idea),
        "",
        _average(tr, standing) + _prize_note(tr, idea, row),
        tr("idea.status_line", status=tr(f"idea.status.{idea.status}")),
    ]
    if comments:
        lines += ["", tr("idea.comments_title"), *(f"• {comment}" for comment in comments)]
    adopt = (
        (tr("idea.btn_unadopt"), IdeaItem("unadopt", idea_id))
        if idea.adopted
        else (tr("idea.btn_adopt"), IdeaItem("adopt", idea_id))
    )
    rows: list[ButtonRow] = [[adopt]]
    if row.awarded_at is None and row.counts:
        rows.append([(tr("idea.btn_move"), IdeaItem("move", idea_id))])
    await say(update, context, "\n".join(lines)[:4000], keyboard(*rows))


async def item_press(update: Update, context: UnionContext) -> None:
    """Open an idea, adopt it or take that back, or choose its prize level."""
    button = context.button_as(IdeaItem)
    actor = await committee_press(update, context)
    if actor is None:
        return
    try:
        if button.action == "open":
            await context.answer(update)
            await show_idea(update, context, button.idea_id)
        elif button.action == "move":
            async with context.db() as session:
                idea = await get_idea(session, org_id=context.org_id, idea_id=button.idea_id)
                row = await year_of(session, org_id=context.org_id, year=idea.year)
            await context.answer(update)
            rows: list[ButtonRow] = [
                [(level_name(context.tr, level), IdeaLevel(button.idea_id, level))]
                for level in range(1, len(row.counts) + 1)
            ]
            rows.append([(context.t("idea.btn_no_prize"), IdeaLevel(button.idea_id, 0))])
            await say(
                update, context, context.t("idea.move_ask", label=idea_label(idea)), keyboard(*rows)
            )
        else:
            await _adopt(update, context, button.idea_id, adopted=button.action == "adopt")
    except DomainError as error:
        await refuse(update, context, error)


async def _adopt(update: Update, context: UnionContext, idea_id: int, *, adopted: bool) -> None:
    actor = context.actor
    assert actor is not None
    async with context.db() as session:
        idea = await set_adopted(
            session, org_id=context.org_id, idea_id=idea_id, actor=actor, adopted=adopted
        )
    key = "idea.adopted_toast" if adopted else "idea.unadopted_toast"
    await context.answer(update, context.t(key, number=idea.number))
    logger.info("Idea %s marked adopted=%s by member %s", idea_id, adopted, actor.id)
    if adopted:
        await context.notifier.tell(
            [idea.author_member_id],
            lambda tr: tr("idea.told_adopted", subject=idea.subject, number=idea.number),
        )
    await show_idea(update, context, idea_id)


async def level_press(update: Update, context: UnionContext) -> None:
    """A prize level chosen for an idea (0: none), before the awards are confirmed."""
    button = context.button_as(IdeaLevel)
    actor = await committee_press(update, context)
    if actor is None:
        return
    try:
        async with context.db() as session:
            idea = await move_idea(
                session,
                org_id=context.org_id,
                idea_id=button.idea_id,
                actor=actor,
                level=button.level or None,
            )
    except DomainError as error:
        if error.key == "idea.level_full":
            error.params["level"] = level_name(context.tr, button.level)
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("idea.moved_toast", number=idea.number))
    await _show_awards(update, context, idea.year)


# ---- awards ------------------------------------------------------------------------------


async def _show_awards(update: Update, context: UnionContext, year: int) -> None:
    """The prizes as they stand, level by level, with each idea's average; 确认颁奖."""
    tr = context.tr
    async with context.db() as session:
        row = await year_of(session, org_id=context.org_id, year=year)
        ranked = {s.idea.id: s for s in await standings(session, org_id=context.org_id, year=year)}
        winners = await winners_of(session, org_id=context.org_id, year=year)
    title = "idea.awards_final" if row.awarded_at else "idea.awards_draft"
    lines = [tr(title, year=year)]
    unranked = _unranked_line(tr, list(ranked.values())) if row.awarded_at is None else None
    if unranked:
        lines.append(unranked)
    buttons: list[ButtonRow] = []
    for level, count in enumerate(row.counts, start=1):
        at_level = [idea for idea in winners if idea.prize_level == level]
        lines.append(
            tr("idea.awards_level", level=level_name(tr, level), taken=len(at_level), count=count)
        )
        for idea in at_level:
            lines.append(f"  • {idea_label(idea)} · {_average(tr, ranked[idea.id])}")
            if row.awarded_at is None:
                buttons.append(
                    [(tr("idea.btn_move_one", number=idea.number), IdeaItem("move", idea.id or 0))]
                )
    if not row.counts:
        lines.append(tr("idea.prizes_unset"))
    if row.awarded_at is None and winners:
        lines.append(tr("idea.awards_hint"))
        buttons.append([(tr("idea.btn_award"), IdeaDesk("award", year))])
    buttons.append([(tr("idea.btn_back"), IdeaDesk("show", year))])
    await say(update, context, "\n".join(lines)[:4000], keyboard(*buttons))


async def _award(update: Update, context: UnionContext, year: int) -> None:
    """确认颁奖: stored once; each winner's author is told through the outbox."""
    actor = context.actor
    assert actor is not None
    async with context.db() as session:
        winners = await confirm_awards(session, org_id=context.org_id, year=year, actor=actor)
        authors = await members_by_id(session, sorted({idea.author_member_id for idea in winners}))
    await context.answer(update, context.t("idea.awarded_toast"))
    logger.info("Idea prizes of %s confirmed by member %s", year, actor.id)
    recipients = []
    for idea in winners:
        author = authors.get(idea.author_member_id)
        if author is None or author.telegram_user_id is None or not idea.prize_level:
            continue
        tr = context.i18n.get(author.language)
        text = tr(
            "idea.told_prize",
            subject=idea.subject,
            number=idea.number,
            level=level_name(tr, idea.prize_level),
        )
        recipients.append(
            Recipient(chat_id=author.telegram_user_id, text=text, member_id=author.id)
        )
    if recipients:
        await context.notifier.queue(
            org_id=context.org_id,
            key=f"ideas:{context.org_id}:{year}:awarded",
            kind=BroadcastKind.ANNOUNCEMENT,
            recipients=recipients,
            quiet=False,
        )
    await say(
        update,
        context,
        context.t("idea.awarded", year=year, count=len(winners), told=len(recipients)),
        keyboard([(context.t("idea.btn_publish"), IdeaDesk("pub", year))]),
    )


# ---- the disclosure channel --------------------------------------------------------------


def winners_text(tr: Translator, winners: list[tuple[Idea, str]]) -> str:
    """The winners, level by level: 合-2026-0005「…」 王芳芳（初二年级组）."""
    lines: list[str] = []
    level = 0
    for idea, who in winners:
        if idea.prize_level != level:
            level = idea.prize_level or 0
            lines.append(tr("idea.public_level", level=level_name(tr, level)))
        lines.append(f"{idea_label(idea)} {who}")
    return "\n".join(lines)


async def publish_winners(
    context: UnionContext, *, year: int, title: str, text: str, created_by: int
) -> tuple[Notice, Published]:
    """Publish the winners as a 公示 notice: to the disclosure channel (with its 提出异议 link)
    and to every member (the prizes concern the whole staff), with the default period of
    working days. Claimed once in the database first."""
    async with context.db() as session:
        org = await get_organization(session, context.org_id)
    if org.disclosure_chat_id is None:
        raise DomainError(N_("idea.no_channel"))
    async with context.db() as session:
        await mark_published(session, org_id=context.org_id, year=year)
    return await publish_generated(
        context,
        title=title,
        body=text,
        kind=NoticeKind.IDEAS,
        audience=AudienceType.EVERYONE,
        created_by=created_by,
    )


async def _publish(update: Update, context: UnionContext, year: int) -> None:
    actor = context.actor
    assert actor is not None
    async with context.db() as session:
        row = await year_of(session, org_id=context.org_id, year=year)
        if row.awarded_at is None:
            raise DomainError(N_("idea.not_awarded_yet"))
        winners = await winners_of(session, org_id=context.org_id, year=year)
        authors = await members_by_id(session, sorted({idea.author_member_id for idea in winners}))
        figures = await year_figures(session, org_id=context.org_id, year=year)
    tr = context.i18n.get(context.settings.default_language)
    named = [
        (
            idea,
            f"{author.real_name}（{author.department}）"
            if (author := authors.get(idea.author_member_id))
            else "",
        )
        for idea in winners
    ]
    notice, published = await publish_winners(
        context,
        year=year,
        title=tr("idea.notice_title", year=year),
        text=figures_text(tr, figures) + "\n\n" + winners_text(tr, named),
        created_by=actor.id,
    )
    logger.info("Idea winners of %s published as notice %s", year, notice.id)
    key = "idea.published_toast" if published.posted else "idea.publish_failed"
    await context.answer(
        update,
        context.t(key, number=notice.number, end=day_words(context.tr, notice.ends_on)),
        alert=True,
    )


# ---- the spreadsheet ---------------------------------------------------------------------


async def _export(update: Update, context: UnionContext, year: int) -> None:
    """The year's ideas as an xlsx sheet (every text cell safe, models/exports.py)."""
    tr = context.tr
    async with context.db() as session:
        ranked = await standings(session, org_id=context.org_id, year=year)
        row = await year_of(session, org_id=context.org_id, year=year)
        authors = await members_by_id(session, sorted({s.idea.author_member_id for s in ranked}))
    from openpyxl import Workbook  # imported by the first export, not at start

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = tr("idea.sheet_title", year=year)
    columns = (
        "number",
        "subject",
        "author",
        "department",
        "problem",
        "proposal",
        "benefit",
        "average",
        "count",
        "prize",
        "adopted",
        "filed",
    )
    append_row(sheet, [tr(f"idea.column.{column}") for column in columns])
    for standing in sorted(ranked, key=lambda s: s.idea.seq):
        idea = standing.idea
        author = authors.get(idea.author_member_id)
        prize = level_name(tr, idea.prize_level) if idea.prize_level and row.awarded_at else ""
        append_row(
            sheet,
            [
                idea.number,
                idea.subject,
                author.real_name if author else "",
                author.department if author else "",
                idea.problem,
                idea.proposal,
                idea.benefit,
                round(standing.average, 2) if standing.average is not None else None,
                standing.count,
                prize,
                tr("common.yes") if idea.adopted else tr("common.no"),
                idea.created_at.astimezone(context.settings.zone).date(),
            ],
        )
    buffer = io.BytesIO()
    book.save(buffer)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id, InputFile(buffer.getvalue(), filename=f"ideas-{year}.xlsx")
    )


# ---- the panel ---------------------------------------------------------------------------


async def _show_panel(update: Update, context: UnionContext, year: int) -> None:
    async with context.db() as session:
        panel = await panel_of(session, org_id=context.org_id, year=year)
    lines = [context.t("idea.panel_title", year=year)]
    if not panel:
        lines.append(context.t("idea.panel_empty"))
    rows: list[ButtonRow] = [
        [
            (
                context.t("idea.btn_panel_remove", name=member.real_name),
                PanelPick("del", year, member.id or 0),
            )
        ]
        for member in panel
    ]
    lines += [f"• {member.real_name}（{member.department}）" for member in panel]
    rows.append([(context.t("idea.btn_panel_add"), IdeaDesk("padd", year))])
    rows.append([(context.t("idea.btn_back"), IdeaDesk("show", year))])
    await say(update, context, "\n".join(lines), keyboard(*rows))


async def remove_press(update: Update, context: UnionContext) -> None:
    """✖ a panelist."""
    button = context.button_as(PanelPick)
    actor = await committee_press(update, context)
    if actor is None:
        return
    async with context.db() as session:
        await remove_panelist(
            session,
            org_id=context.org_id,
            year=button.year,
            actor=actor,
            member_id=button.member_id,
        )
    await context.answer(update, context.t("idea.panel_removed_toast"))
    await _show_panel(update, context, button.year)


async def start_add(update: Update, context: UnionContext) -> int:
    """添加评审组成员: a name or a department is asked."""
    button = context.button_as(IdeaDesk)
    if await committee_press(update, context) is None:
        return _END
    await context.answer(update)
    assert context.user_data is not None
    context.user_data["idea_desk"] = {"year": button.year}
    await say(update, context, context.t("idea.panel_write_name"))
    return Prompt.NAME


async def got_name(update: Update, context: UnionContext) -> int:
    """A name: matching members as buttons."""
    text = await typed_text(update, context, limit=20)
    if text is None:
        return Prompt.NAME
    assert context.user_data is not None
    year = int(context.user_data.get("idea_desk", {}).get("year", today(context).year))
    markup = await member_buttons(
        context, text, lambda member_id: PanelPick("add", year, member_id)
    )
    if markup is None:
        await say(update, context, context.t("aid.colleague_none"))
        return Prompt.NAME
    await say(update, context, context.t("aid.colleague_pick"), markup)
    return Prompt.NAME


async def add_press(update: Update, context: UnionContext) -> int:
    """A member chosen: on the panel, and told privately how to score."""
    button = context.button_as(PanelPick)
    actor = await committee_press(update, context)
    if actor is None:
        return _END
    try:
        async with context.db() as session:
            member = await add_panelist(
                session,
                org_id=context.org_id,
                year=button.year,
                actor=actor,
                member_id=button.member_id,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return Prompt.NAME
    await context.answer(update, context.t("idea.panel_added_toast", name=member.real_name))
    logger.info("Member %s put on the %s idea panel", button.member_id, button.year)
    year = button.year
    await context.notifier.tell([button.member_id], lambda tr: tr("idea.told_panel", year=year))
    if context.user_data is not None:
        context.user_data.pop("idea_desk", None)
    await _show_panel(update, context, year)
    return _END


async def start_prizes(update: Update, context: UnionContext) -> int:
    """设置奖项: the counts, 一等奖 first."""
    button = context.button_as(IdeaDesk)
    if await committee_press(update, context) is None:
        return _END
    await context.answer(update)
    assert context.user_data is not None
    context.user_data["idea_desk"] = {"year": button.year}
    await say(update, context, context.t("idea.prizes_ask"))
    return Prompt.PRIZES


async def got_prizes(update: Update, context: UnionContext) -> int:
    """The counts typed: stored; the desk again."""
    actor = await require_committee(update, context)
    if actor is None:
        return _END
    assert update.message is not None and context.user_data is not None
    year = int(context.user_data.get("idea_desk", {}).get("year", today(context).year))
    try:
        counts = parse_prize_counts(update.message.text or "")
        async with context.db() as session:
            await set_prizes(session, org_id=context.org_id, year=year, actor=actor, counts=counts)
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        if error.key == "idea.prizes_format":
            return Prompt.PRIZES
        return _END
    context.user_data.pop("idea_desk", None)
    await show_year(update, context, year)
    return _END


async def cancel_prompt(update: Update, context: UnionContext) -> int:
    """/cancel in a desk prompt."""
    if context.user_data is not None:
        context.user_data.pop("idea_desk", None)
    await say(update, context, context.t("idea.prompt_cancelled"))
    return _END


def register(application: Application) -> None:
    """The committee's desk."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("ideas", ideas_command, filters=private))
    for action in ("show", "panel", "rank", "awards", "award", "awardok", "pub", "xlsx"):
        application.add_handler(ButtonHandler(IdeaDesk, desk_press, action))
    application.add_handler(ButtonHandler(IdeaPage, list_page))
    application.add_handler(ButtonHandler(IdeaItem, item_press))
    application.add_handler(ButtonHandler(IdeaLevel, level_press))
    application.add_handler(ButtonHandler(PanelPick, remove_press, "del"))


def forms() -> list[Form]:
    """The desk's prompts: a panelist's name, the prize counts."""
    private = filters.ChatType.PRIVATE
    return [
        Form(
            conversation(
                name="idea_panel_add",
                entry_points=[ButtonHandler(IdeaDesk, start_add, "padd")],
                states={
                    Prompt.NAME: [
                        ButtonHandler(PanelPick, add_press, "add"),
                        *text_step(got_name),
                    ]
                },
                fallbacks=[CommandHandler("cancel", cancel_prompt, filters=private)],
                allow_reentry=True,
            ),
            label_key="form.label.idea_panel_add",
            drafts=("idea_desk",),
            committee=True,
            prompt=True,
        ),
        Form(
            conversation(
                name="idea_prizes",
                entry_points=[ButtonHandler(IdeaDesk, start_prizes, "prizes")],
                states={Prompt.PRIZES: text_step(got_prizes)},
                fallbacks=[CommandHandler("cancel", cancel_prompt, filters=private)],
                allow_reentry=True,
            ),
            label_key="form.label.idea_prizes",
            drafts=("idea_desk",),
            committee=True,
            prompt=True,
        ),
    ]
