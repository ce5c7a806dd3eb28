"""The district's side of the annual school assessment (目标管理考核): /assessment creates the
year's assessment from the default checklist (a preview, then Confirm), opens it (each school's
chair is told through the outbox, once per assessment), shows which schools sent evidence,
scores a school item by item (typed points, refused out of range), closes it, and compares the
schools in a text table and an xlsx file.

/assessment itself also serves school chairs (handlers/assessment/school.py): who is asking
decides which side answers.
"""

from __future__ import annotations

import io
import logging
from enum import IntEnum
from typing import Any

from telegram import InputFile, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ConversationHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from handlers.assessment import school
from handlers.assessment.buttons import (
    AssessDeadline,
    AssessDesk,
    AssessNew,
    AssessPage,
    AssessSchool,
    AssessScore,
)
from handlers.assessment.common import district_staff, status_word, this_year
from handlers.common import (
    ButtonRow,
    conversation,
    keyboard,
    refuse,
    require_member,
    say,
    text_step,
    user_draft,
)
from models.assessment import (
    DEFAULT_CHECKLIST,
    PASS_MARK,
    Assessment,
    AssessmentStatus,
    Comparison,
    assessment_of_year,
    check_openable,
    check_scorable,
    close_assessment,
    compare,
    create_assessment,
    get_assessment,
    get_item,
    items_of,
    open_assessment,
    parse_points,
    school_chairs,
    score_item,
    scores_of,
    submissions_of,
)
from models.district import get_school, require_recusal, schools_of
from models.errors import DomainError, InputError
from models.exports import append_row
from models.organizations import Organization, OrgKind
from models.outbox import BroadcastKind, to_chair

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
_DRAFT = "assess_score"
PAGE = 20  # schools per page of the submissions list
TEXT_ROOM = 3800  # a chat message holds 4096 characters; long tables go in several


class Scoring(IntEnum):
    """The one step after an item is pressed: the points typed."""

    POINTS = 1


# ---- /assessment -------------------------------------------------------------------------


async def assessment_command(update: Update, context: UnionContext) -> None:
    """/assessment: the district's desk for district staff, the school's items for a chair."""
    actor = await require_member(update, context)
    if actor is None:
        return
    async with context.db() as session:
        org = await session.get(Organization, context.org_id)
    if org is not None and org.kind == OrgKind.DISTRICT:
        await district_home(update, context)
    else:
        await school.school_home(update, context)


async def district_home(update: Update, context: UnionContext) -> None:
    """This year's assessment: its card, or the default checklist to create it from."""
    staff = await district_staff(update, context)
    if staff is None:
        return
    _actor, district = staff
    year = this_year(context)
    async with context.db() as session:
        assessment = await assessment_of_year(session, district_id=district.id or 0, year=year)
    if assessment is None:
        await _preview(update, context, year)
        return
    await _card(update, context, district, assessment)


async def _preview(update: Update, context: UnionContext, year: int) -> None:
    t = context.t
    total = sum(item.max_points for item in DEFAULT_CHECKLIST)
    lines = [t("assess.preview_title", year=year, total=total, pass_mark=PASS_MARK), ""]
    for position, item in enumerate(DEFAULT_CHECKLIST, start=1):
        needs = t("assess.needs_evidence") if item.evidence_required else ""
        lines.append(
            t("assess.item_line", position=position, title=item.title, points=item.max_points)
            + needs
        )
    lines += ["", t("assess.preview_hint")]
    await say(
        update,
        context,
        "\n".join(lines),
        keyboard(
            [(t("assess.btn_create"), AssessNew("yes", year))],
            [(t("common.cancel"), AssessNew("cancel", year))],
        ),
    )


async def create_pressed(update: Update, context: UnionContext) -> None:
    """Confirm under the preview: the draft is created once (a second press is told so)."""
    button = context.button_as(AssessNew)
    if button.choice == "cancel":
        await context.answer(update)
        await say(update, context, context.t("assess.create_cancelled"))
        return
    staff = await district_staff(update, context)
    if staff is None:
        return
    actor, district = staff
    if abs(button.year - this_year(context)) > 1:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return
    try:
        async with context.db() as session:
            assessment = await create_assessment(
                session, district_id=district.id or 0, actor=actor, year=button.year
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("assess.created_toast"))
    logger.info("Assessment %s created by member %s", assessment.id, actor.id)
    await _card(update, context, district, assessment)


async def _card(
    update: Update, context: UnionContext, district: Organization, assessment: Assessment
) -> None:
    t = context.t
    async with context.db() as session:
        result = await compare(
            session, district_id=district.id or 0, assessment_id=assessment.id or 0
        )
    lines = [
        t("assess.card_title", title=assessment.title),
        t("assess.card_status", status=status_word(context, assessment)),
    ]
    if assessment.deadline is not None:
        lines.append(t("assess.deadline", date=assessment.deadline.isoformat()))
    lines.append(
        t(
            "assess.card_figures",
            items=len(result.items),
            total=sum(item.max_points for item in result.items),
            pass_mark=PASS_MARK,
            schools=len(result.standings),
            sent=sum(1 for row in result.standings if row.submitted),
            scored=sum(1 for row in result.standings if row.scored),
        )
    )
    ident = assessment.id or 0
    rows: list[ButtonRow] = []
    if assessment.status == AssessmentStatus.DRAFT:
        rows.append([(t("assess.btn_open"), AssessDesk("open", ident))])
    else:
        rows.append([(t("assess.btn_subs"), AssessDesk("subs", ident))])
        rows.append(
            [
                (t("assess.btn_compare"), AssessDesk("cmp", ident)),
                (t("assess.btn_xlsx"), AssessDesk("xlsx", ident)),
            ]
        )
    if assessment.status != AssessmentStatus.CLOSED:
        rows.append([(t("assess.btn_deadline"), AssessDeadline(ident))])
    if assessment.status == AssessmentStatus.OPEN:
        rows.append([(t("assess.btn_close"), AssessDesk("close", ident))])
    await say(update, context, "\n".join(lines), keyboard(*rows))


async def desk_pressed(update: Update, context: UnionContext) -> None:
    """A tool of the district's card (the presser's office checked again)."""
    button = context.button_as(AssessDesk)
    staff = await district_staff(update, context)
    if staff is None:
        return
    _actor, district = staff
    try:
        async with context.db() as session:
            assessment = await get_assessment(
                session, district_id=district.id or 0, assessment_id=button.assessment_id
            )
        if button.action == "open":
            await _open(update, context, district, assessment)
            return
        if button.action == "closeok":
            await _close(update, context, district, assessment)
            return
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update)
    if button.action == "show":
        await _card(update, context, district, assessment)
    elif button.action == "close":
        ident = assessment.id or 0
        await say(
            update,
            context,
            context.t("assess.close_ask", title=assessment.title),
            keyboard(
                [(context.t("assess.btn_close_ok"), AssessDesk("closeok", ident))],
                [(context.t("assess.btn_back"), AssessDesk("show", ident))],
            ),
        )
    elif button.action == "subs":
        await _submissions(update, context, district, assessment, offset=0)
    elif button.action == "cmp":
        await _comparison(update, context, district, assessment)
    elif button.action == "xlsx":
        await _export(update, context, district, assessment)


async def _open(
    update: Update, context: UnionContext, district: Organization, assessment: Assessment
) -> None:
    """Opened once; each school's chair is told through the outbox (a key per assessment)."""
    actor = context.actor
    assert actor is not None
    check_openable(assessment, today=context.today())
    async with context.db() as session:
        assessment = await open_assessment(
            session, district_id=district.id or 0, assessment_id=assessment.id or 0, actor=actor
        )
        chairs = await school_chairs(session, district_id=district.id or 0)
        schools = await schools_of(session, district_id=district.id or 0)
    await context.answer(update, context.t("assess.opened_toast"))
    logger.info("Assessment %s opened by member %s", assessment.id, actor.id)
    recipients = []
    for chair in chairs:
        if chair.telegram_user_id is None:
            continue
        tr = context.i18n.get(chair.language)
        told = tr("assess.told_open", title=assessment.title)
        if assessment.deadline is not None:
            told += "\n" + tr("assess.deadline", date=assessment.deadline.isoformat())
        recipients.append(to_chair(chair, told))
    if recipients:
        await context.notifier.queue(
            org_id=district.id or 0,
            key=f"assess:{assessment.id}:open",
            kind=BroadcastKind.ANNOUNCEMENT,
            recipients=recipients,
            quiet=True,
        )
    with_chair = {chair.organization_id for chair in chairs}
    lines = [context.t("assess.opened", title=assessment.title, told=len(with_chair))]
    missing = [org.name for org in schools if org.id not in with_chair]
    if missing:
        lines.append(context.t("assess.no_chair", schools="、".join(missing)))
    await say(update, context, "\n".join(lines))
    await _card(update, context, district, assessment)


async def _close(
    update: Update, context: UnionContext, district: Organization, assessment: Assessment
) -> None:
    actor = context.actor
    assert actor is not None
    async with context.db() as session:
        assessment = await close_assessment(
            session, district_id=district.id or 0, assessment_id=assessment.id or 0, actor=actor
        )
    await context.answer(update, context.t("assess.closed_toast"))
    logger.info("Assessment %s closed by member %s", assessment.id, actor.id)
    await say(update, context, context.t("assess.closed", title=assessment.title))
    await _card(update, context, district, assessment)


# ---- which schools sent what -------------------------------------------------------------


async def page_pressed(update: Update, context: UnionContext) -> None:
    """Another page of the schools."""
    button = context.button_as(AssessPage)
    staff = await district_staff(update, context)
    if staff is None:
        return
    _actor, district = staff
    try:
        async with context.db() as session:
            assessment = await get_assessment(
                session, district_id=district.id or 0, assessment_id=button.assessment_id
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update)
    await _submissions(update, context, district, assessment, offset=button.offset)


async def _submissions(
    update: Update,
    context: UnionContext,
    district: Organization,
    assessment: Assessment,
    *,
    offset: int,
) -> None:
    t = context.t
    async with context.db() as session:
        result = await compare(
            session, district_id=district.id or 0, assessment_id=assessment.id or 0
        )
    count = len(result.items)
    standings = sorted(result.standings, key=lambda row: row.school)
    if not standings:
        await say(update, context, t("assess.no_schools"))
        return
    lines = [t("assess.subs_title", title=assessment.title, schools=len(standings))]
    ident = assessment.id or 0
    rows: list[ButtonRow] = []
    for row in standings[offset : offset + PAGE]:
        lines.append(
            t(
                "assess.subs_line",
                school=row.school,
                sent=row.submitted,
                scored=row.scored,
                items=count,
            )
        )
        rows.append([(row.school, AssessSchool(ident, row.school_id))])
    nav: list[tuple[str, AssessPage]] = []
    if offset > 0:
        nav.append((t("assess.btn_prev"), AssessPage(ident, max(offset - PAGE, 0))))
    if offset + PAGE < len(standings):
        nav.append((t("assess.btn_next"), AssessPage(ident, offset + PAGE)))
    if nav:
        rows.append(nav)
    rows.append([(t("assess.btn_back"), AssessDesk("show", ident))])
    await say(update, context, "\n".join(lines), keyboard(*rows))


async def school_pressed(update: Update, context: UnionContext) -> None:
    """One school's items for district staff: evidence sent or not, points given or not."""
    button = context.button_as(AssessSchool)
    staff = await district_staff(update, context)
    if staff is None:
        return
    _actor, district = staff
    try:
        async with context.db() as session:
            assessment = await get_assessment(
                session, district_id=district.id or 0, assessment_id=button.assessment_id
            )
            target = await get_school(
                session, district_id=district.id or 0, school_id=button.school_id
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update)
    await _school_items(update, context, assessment, target)


async def _school_items(
    update: Update, context: UnionContext, assessment: Assessment, target: Organization
) -> None:
    t = context.t
    ident, school_id = assessment.id or 0, target.id or 0
    async with context.db() as session:
        items = await items_of(session, assessment_id=ident)
        sent = await submissions_of(session, assessment_id=ident, school_id=school_id)
        scores = await scores_of(session, assessment_id=ident, school_id=school_id)
    lines = [t("assess.school_card", school=target.name, title=assessment.title)]
    rows: list[ButtonRow] = []
    for item in items:
        score = scores.get(item.id or 0)
        state = t("assess.sent") if item.id in sent else t("assess.not_sent")
        points = t("assess.points_given", points=score.points) if score else t("assess.not_scored")
        lines.append(
            t("assess.item_line", position=item.position, title=item.title, points=item.max_points)
            + f" · {state} · {points}"
        )
        rows.append(
            [(f"{item.position}. {item.title}", AssessScore(ident, school_id, item.id or 0))]
        )
    total = sum(score.points for score in scores.values())
    lines.append(t("assess.school_total", scored=len(scores), items=len(items), total=total))
    rows.append([(t("assess.btn_back"), AssessDesk("subs", ident))])
    await say(update, context, "\n".join(lines), keyboard(*rows))


# ---- scoring (a short form) --------------------------------------------------------------


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, _DRAFT)


async def start_scoring(update: Update, context: UnionContext) -> int:
    """An item of a school pressed: its evidence, then the points are asked."""
    button = context.button_as(AssessScore)
    staff = await district_staff(update, context)
    if staff is None:
        return _END
    actor, district = staff
    try:
        async with context.db() as session:
            assessment = await get_assessment(
                session, district_id=district.id or 0, assessment_id=button.assessment_id
            )
            item = await get_item(
                session, assessment_id=button.assessment_id, item_id=button.item_id
            )
            target = await get_school(
                session, district_id=district.id or 0, school_id=button.school_id
            )
            check_scorable(assessment)
            await require_recusal(session, actor=actor, school_id=button.school_id)
            sent = await submissions_of(
                session, assessment_id=button.assessment_id, school_id=button.school_id
            )
            scores = await scores_of(
                session, assessment_id=button.assessment_id, school_id=button.school_id
            )
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    await context.answer(update)
    t = context.t
    submission = sent.get(button.item_id)
    lines = [
        t(
            "assess.score_title",
            school=target.name,
            position=item.position,
            title=item.title,
            max=item.max_points,
        )
    ]
    if submission is None:
        lines.append(t("assess.no_evidence"))
    else:
        if submission.evidence:
            lines.append(t("assess.evidence_is", text=submission.evidence))
        if submission.file_id:
            lines.append(t("assess.file_is", name=submission.file_name or "—"))
    score = scores.get(button.item_id)
    if score is not None:
        lines.append(t("assess.score_now", points=score.points, max=item.max_points))
    lines.append(t("assess.score_ask", max=item.max_points))
    if submission is not None and submission.file_id:
        chat = update.effective_chat
        assert chat is not None
        try:
            await context.bot.send_document(chat.id, submission.file_id)
        except TelegramError:
            logger.info("An assessment file could not be sent again")
    await say(update, context, "\n".join(lines)[:4000])
    draft = _draft(context)
    draft.clear()
    draft.update(
        assessment=button.assessment_id,
        school=button.school_id,
        item=button.item_id,
        max=item.max_points,
    )
    return Scoring.POINTS


async def got_points(update: Update, context: UnionContext) -> int:
    """The points typed: out of range is asked again with the range; stored, the next item."""
    assert update.message is not None
    draft = _draft(context)
    if "item" not in draft:
        await say(update, context, context.t("assess.draft_lost"))
        return _END
    try:
        points, note = parse_points(update.message.text or "", max_points=int(draft["max"]))
    except InputError as error:
        await say(update, context, context.t(error.key, **error.params))
        return Scoring.POINTS
    staff = await district_staff(update, context)
    if staff is None:
        draft.clear()
        return _END
    actor, district = staff
    assessment_id, school_id = int(draft["assessment"]), int(draft["school"])
    try:
        async with context.db() as session:
            score = await score_item(
                session,
                district_id=district.id or 0,
                assessment_id=assessment_id,
                item_id=int(draft["item"]),
                school_id=school_id,
                actor=actor,
                points=points,
                note=note,
            )
            item = await get_item(session, assessment_id=assessment_id, item_id=score.item_id)
            target = await get_school(session, district_id=district.id or 0, school_id=school_id)
            items = await items_of(session, assessment_id=assessment_id)
            scores = await scores_of(session, assessment_id=assessment_id, school_id=school_id)
    except InputError as error:
        await say(update, context, context.t(error.key, **error.params))
        return Scoring.POINTS
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        draft.clear()
        return _END
    draft.clear()
    logger.info("Assessment item %s of school %s scored by member %s", item.id, school_id, actor.id)
    t = context.t
    rows: list[ButtonRow] = []
    left = [other for other in items if other.id not in scores]
    if left:
        nxt = left[0]
        rows.append(
            [
                (
                    t("assess.btn_next_item", position=nxt.position, title=nxt.title),
                    AssessScore(assessment_id, school_id, nxt.id or 0),
                )
            ]
        )
    rows.append(
        [(t("assess.btn_school", school=target.name), AssessSchool(assessment_id, school_id))]
    )
    await say(
        update,
        context,
        t(
            "assess.scored",
            school=target.name,
            title=item.title,
            points=score.points,
            max=item.max_points,
        ),
        keyboard(*rows),
    )
    return _END


async def cancel_scoring(update: Update, context: UnionContext) -> int:
    """/cancel while scoring: nothing stored."""
    _draft(context).clear()
    await say(update, context, context.t("assess.score_cancelled"))
    return _END


# ---- the comparison ----------------------------------------------------------------------


def comparison_lines(context: UnionContext, title: str, result: Comparison) -> list[str]:
    """名次. 学校 · 总分 · 合格, then 合格 n/m 所 and the 合格率."""
    t = context.t
    lines = [t("assess.cmp_title", title=title, pass_mark=PASS_MARK)]
    for row in result.standings:
        lines.append(
            t(
                "assess.cmp_row",
                rank=row.rank,
                school=row.school,
                total=row.total,
                verdict=t("assess.pass") if row.passed else t("assess.fail"),
            )
        )
    rate = result.pass_rate
    if rate is None:
        lines.append(t("assess.no_schools"))
        return lines
    lines.append(
        t(
            "assess.cmp_summary",
            passed=result.passed,
            schools=len(result.standings),
            rate=f"{rate:.1f}",
        )
    )
    unfinished = sum(1 for row in result.standings if row.scored < len(result.items))
    if unfinished:
        lines.append(t("assess.cmp_unfinished", count=unfinished))
    return lines


async def _comparison(
    update: Update, context: UnionContext, district: Organization, assessment: Assessment
) -> None:
    async with context.db() as session:
        result = await compare(
            session, district_id=district.id or 0, assessment_id=assessment.id or 0
        )
    lines = comparison_lines(context, assessment.title, result)
    ident = assessment.id or 0
    markup = keyboard(
        [(context.t("assess.btn_xlsx"), AssessDesk("xlsx", ident))],
        [(context.t("assess.btn_back"), AssessDesk("show", ident))],
    )
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > TEXT_ROOM:
            await say(update, context, "\n".join(chunk))
            chunk = []
        chunk.append(line)
    await say(update, context, "\n".join(chunk), markup)


async def _export(
    update: Update, context: UnionContext, district: Organization, assessment: Assessment
) -> None:
    """The comparison as an xlsx sheet: rank, school, each item's points, total, 合格 (every
    cell through models/exports.py)."""
    t = context.t
    async with context.db() as session:
        result = await compare(
            session, district_id=district.id or 0, assessment_id=assessment.id or 0
        )
    from openpyxl import Workbook  # imported by the first export, not at start

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t("assess.sheet_title")
    append_row(
        sheet,
        [
            t("assess.column_rank"),
            t("assess.column_school"),
            *(
                t("assess.column_item", title=item.title, max=item.max_points)
                for item in result.items
            ),
            t("assess.column_total"),
            t("assess.column_pass"),
        ],
    )
    for row in result.standings:
        append_row(
            sheet,
            [
                row.rank,
                row.school,
                *(result.points.get((row.school_id, item.id or 0)) for item in result.items),
                row.total,
                t("assess.pass") if row.passed else t("assess.fail"),
            ],
        )
    rate = result.pass_rate
    if rate is not None:
        append_row(sheet, [])
        append_row(
            sheet,
            [
                t(
                    "assess.cmp_summary",
                    passed=result.passed,
                    schools=len(result.standings),
                    rate=f"{rate:.1f}",
                )
            ],
        )
    buffer = io.BytesIO()
    book.save(buffer)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id, InputFile(buffer.getvalue(), filename=f"assessment-{assessment.year}.xlsx")
    )


# ---- wiring ------------------------------------------------------------------------------


def register(application: Application) -> None:
    """/assessment and the district's buttons (scoring and evidence are forms)."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("assessment", assessment_command, filters=private))
    application.add_handler(ButtonHandler(AssessNew, create_pressed))
    application.add_handler(ButtonHandler(AssessDesk, desk_pressed))
    application.add_handler(ButtonHandler(AssessPage, page_pressed))
    application.add_handler(ButtonHandler(AssessSchool, school_pressed))


def forms() -> list[Form]:
    """District staff's scoring form: an item pressed, the points typed."""
    return [
        Form(
            conversation(
                name="assess_scoring",
                entry_points=[ButtonHandler(AssessScore, start_scoring)],
                states={Scoring.POINTS: text_step(got_points)},
                fallbacks=[CommandHandler("cancel", cancel_scoring)],
                allow_reentry=True,
            ),
            label_key="assess.form_scoring",
            drafts=(_DRAFT,),
            committee=True,
            prompt=True,
        ),
    ]
