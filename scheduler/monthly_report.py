"""The 月报: on the 1st the committee's `monthly_report` task carries last month's figures.

The block is the /report message of the month before the occurrence: counts and sums only
(no names, no aid details), so it may go to the committee group. The month is cut at
midnight in the settings' zone (TIMEZONE), "answered within" counts SUGGESTION_ANSWER_DAYS and
the union's name is the one the settings give in the reader's language, as /report does.
Called without settings (a direct call in a test), it falls back to Beijing, 7 days and the
stored name.
"""

from __future__ import annotations

from datetime import date, tzinfo
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Translator
from bot.settings import Settings
from models.organizations import get_organization
from models.reports.period import previous_month
from models.reports.queries import gather
from models.reports.report_text import figures_text

REPORT_ZONE = ZoneInfo("Asia/Shanghai")
ANSWER_DAYS = 7  # the default of SUGGESTION_ANSWER_DAYS


async def monthly_report_block(
    session: AsyncSession,
    org_id: int,
    occurrence: date,
    tr: Translator,
    *,
    settings: Settings | None = None,
) -> str:
    """Last month's figures, as /report writes them."""
    if settings is not None:
        zone: tzinfo = settings.zone
        answer_days = settings.suggestion_answer_days
        org = await get_organization(session, org_id)
        # A school of a district goes by its own name; a single school by the settings'.
        name = (
            org.name if org.parent_id is not None else settings.organization_name_for(tr.language)
        )
    else:
        zone, answer_days = REPORT_ZONE, ANSWER_DAYS
        name = (await get_organization(session, org_id)).name
    figures = await gather(
        session,
        org_id=org_id,
        period=previous_month(occurrence),
        zone=zone,
        organization=name,
        answer_days=answer_days,
    )
    return figures_text(tr, figures)
