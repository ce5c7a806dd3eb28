"""reworded greetings: default texts never edited now say 您 and come from the union

Issue 16: the default greetings were reworded (您 instead of 你, signed by the union rather than
"学校"; the 10 January task names the year just ended). A union that never edited a default
text gets the new one; a text the committee changed is left exactly as it is. The texts are
written out here, not read from the catalogs, so this revision means the same thing later.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-17 12:00:00.000000
"""

# ruff: noqa: E501  (the texts are kept whole, as they are compared)

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# entry key -> language -> (the text as first written, the text now)
REWORDED: dict[str, dict[str, tuple[str, str]]] = {
    "new_year": {
        "zh-Hans": (
            "{name}老师，新年快乐！{org}祝你在新的一年里身体健康、工作顺利。",
            "{name}老师，新年快乐！{org}祝您在新的一年里身体健康、工作顺利。",
        ),
        "zh-Hant": (
            "{name}老師，新年快樂！{org}祝你在新的一年裡身體健康、工作順利。",
            "{name}老師，新年快樂！{org}祝您在新的一年裡身體健康、工作順利。",
        ),
        "en": (
            "Happy New Year, {name}! {org} wishes you good health and a good year.",
            "Happy New Year, {name}! Good health and a good year to you, from {org}.",
        ),
    },
    "annual_summary": {
        "zh-Hans": (
            "📋 提醒：请开始撰写本年度工会工作总结（会员 {members} 人）。",
            "📋 提醒：请撰写{last_year}年度工会工作总结，并拟定新学期工作计划（会员 {members} 人）。",
        ),
        "zh-Hant": (
            "📋 提醒：請開始撰寫本年度工會工作總結（會員 {members} 人）。",
            "📋 提醒：請撰寫{last_year}年度工會工作總結，並擬定新學期工作計劃（會員 {members} 人）。",
        ),
        "en": (
            "📋 Reminder: time to write the union's annual summary ({members} members).",
            "📋 Reminder: write the union's work summary for {last_year} and draft the plan for the new term ({members} members).",
        ),
    },
    "spring_festival": {
        "zh-Hans": (
            "🧧 {name}老师，新春快乐！{org}给你拜年，祝阖家幸福、万事如意。",
            "🧧 {name}老师，新春快乐！{org}给您拜年，祝阖家幸福、万事如意。",
        ),
        "zh-Hant": (
            "🧧 {name}老師，新春快樂！{org}給你拜年，祝闔家幸福、萬事如意。",
            "🧧 {name}老師，新春快樂！{org}給您拜年，祝闔家幸福、萬事如意。",
        ),
    },
    "womens_day": {
        "zh-Hans": (
            "🌷 {name}老师，三八妇女节快乐！感谢你为学校付出的一切。——{org}",
            "🌷 {name}老师，三八妇女节快乐！感谢您一直以来的辛勤付出，祝您健康美丽。——{org}",
        ),
        "zh-Hant": (
            "🌷 {name}老師，三八婦女節快樂！感謝你為學校付出的一切。——{org}",
            "🌷 {name}老師，三八婦女節快樂！感謝您一直以來的辛勤付出，祝您健康美麗。——{org}",
        ),
        "en": (
            "🌷 Happy Women's Day, {name}! Thank you for all you give to our school. — {org}",
            "🌷 Happy Women's Day, {name}! Thank you for all you give; we wish you health and joy. — {org}",
        ),
    },
    "labour_day": {
        "zh-Hans": (
            "{name}老师，五一劳动节快乐！辛苦了，好好休息。——{org}",
            "{name}老师，五一劳动节快乐！您辛苦了，祝您假期愉快。——{org}",
        ),
        "zh-Hant": (
            "{name}老師，五一勞動節快樂！辛苦了，好好休息。——{org}",
            "{name}老師，五一勞動節快樂！您辛苦了，祝您假期愉快。——{org}",
        ),
        "en": (
            "Happy Labour Day, {name}! Thank you for your work; enjoy the rest. — {org}",
            "Happy Labour Day, {name}! Thank you for your work; enjoy the holiday. — {org}",
        ),
    },
    "teachers_day": {
        "zh-Hans": (
            "🌹 {name}老师，教师节快乐！感谢你的辛勤耕耘。——{org}",
            "🌹 {name}老师，教师节快乐！感谢您的辛勤耕耘。——{org}",
        ),
        "zh-Hant": (
            "🌹 {name}老師，教師節快樂！感謝你的辛勤耕耘。——{org}",
            "🌹 {name}老師，教師節快樂！感謝您的辛勤耕耘。——{org}",
        ),
    },
    "national_day": {
        "zh-Hans": (
            "{name}老师，国庆节快乐！祝假期愉快。——{org}",
            "{name}老师，国庆节快乐！祝您假期愉快。——{org}",
        ),
        "zh-Hant": (
            "{name}老師，國慶節快樂！祝假期愉快。——{org}",
            "{name}老師，國慶節快樂！祝您假期愉快。——{org}",
        ),
    },
    "double_ninth": {
        "zh-Hans": (
            "🍵 {name}老师，重阳节快乐！学校一直记挂着您，祝您健康长寿。——{org}",
            "🍵 {name}老师，重阳节快乐！工会一直记挂着您，祝您健康长寿。——{org}",
        ),
        "zh-Hant": (
            "🍵 {name}老師，重陽節快樂！學校一直記掛著您，祝您健康長壽。——{org}",
            "🍵 {name}老師，重陽節快樂！工會一直記掛著您，祝您健康長壽。——{org}",
        ),
        "en": (
            "🍵 Happy Double Ninth Festival, {name}! The school remembers you fondly; we wish you good health. — {org}",
            "🍵 Happy Double Ninth Festival, {name}! The union has not forgotten you; we wish you good health and a long life. — {org}",
        ),
    },
    "finance_review": {
        "zh-Hans": (
            "💰 提醒：请经审委员开始工会经费年度审查，准备台帐和经费总结。",
            "💰 提醒：请经审委员开始工会经费年度审查，准备台账和经费总结。",
        ),
        "zh-Hant": (
            "💰 提醒：請經審委員開始工會經費年度審查，準備台帳和經費總結。",
            "💰 提醒：請經審委員開始工會經費年度審查，準備台賬和經費總結。",
        ),
    },
    "birthdays": {
        "zh-Hans": (
            "🎂 {name}老师，生日快乐！{org}祝你天天开心。",
            "🎂 {name}老师，生日快乐！{org}祝您天天开心、身体健康。",
        ),
        "zh-Hant": (
            "🎂 {name}老師，生日快樂！{org}祝你天天開心。",
            "🎂 {name}老師，生日快樂！{org}祝您天天開心、身體健康。",
        ),
    },
}

_ENTRIES = sa.table(
    "calendar_entry",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("messages", sa.JSON),
)


def _reword(direction: int) -> None:
    """Replace each unedited text by its other wording (1: old to new, 0: new to old)."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_ENTRIES.c.id, _ENTRIES.c.key, _ENTRIES.c.messages).where(
            _ENTRIES.c.key.in_(list(REWORDED))
        )
    ).all()
    for entry_id, key, messages in rows:
        changed = dict(messages or {})
        for language, pair in REWORDED[key].items():
            if changed.get(language) == pair[1 - direction]:
                changed[language] = pair[direction]
        if changed != messages:
            connection.execute(
                _ENTRIES.update().where(_ENTRIES.c.id == entry_id).values(messages=changed)
            )


def upgrade() -> None:
    """Apply this revision."""
    _reword(1)


def downgrade() -> None:
    """Revert this revision (unedited texts go back to their first wording)."""
    _reword(0)
