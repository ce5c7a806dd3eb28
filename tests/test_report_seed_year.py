"""The seed's year end to end: the stored records of 2026 (tests/support/seed_year.py) give the
figures, the draft 工作总结 in the seeds' sentences and the 帮扶慰问台账's totals."""

from __future__ import annotations

import io

from docx import Document
from openpyxl import load_workbook

from models.reports.charts import report_charts
from models.reports.period import year_period
from models.reports.queries import gather
from models.reports.summary import summary_docx
from models.reports.workbook import books_workbook
from tests.support.harness import BotHarness
from tests.support.seed_year import ZONE, build_year

SECRET = b"test-secret-key-0123456789abcdef"
UNION = "实验中学工会"


async def test_the_seed_year_writes_the_seeds_sentences_and_books(bot: BotHarness) -> None:
    await build_year(bot.db, org_id=bot.org_id, secret=SECRET)
    period = year_period(2026)
    tr = bot.app.state.i18n.get("zh-Hans")
    async with bot.db() as session:
        figures = await gather(
            session, org_id=bot.org_id, period=period, zone=ZONE, organization=UNION, answer_days=7
        )
        books = await books_workbook(
            session, org_id=bot.org_id, period=period, tr=tr, zone=ZONE, organization=UNION
        )
    charts = report_charts(figures, tr)
    assert [chart.name for chart in charts] == ["aid", "activities", "proposals", "members"]

    document = Document(io.BytesIO(summary_docx(figures, charts, tr)))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert "看望住院员工16人次，送去慰问金4,000元；看望产妇员工5名，送去慰问金2,500元" in text
    assert "为6名困难员工建档，送去慰问金6,000元。总计慰问金34,500元。" in text
    assert "共征集提案36条，经梳理归并为18件" in text
    assert len(document.inline_shapes) == len(charts)

    assert "截至2026年12月31日，工会共有会员45人，其中女会员26人" in text
    assert "本年度工会共举办各类活动4次" in text and "参与33人次" in text

    # The aid ledger for 经审: 31 payments, 34,550 paid, one payment of 300 corrected to 250.
    sheet = load_workbook(io.BytesIO(books))["帮扶慰问台账"]
    rows = list(sheet.iter_rows(values_only=True))
    total = rows[-1]
    assert (total[0], total[1], total[6], total[8]) == ("合计", 31, 34_550, 34_500)
    subtotals = {row[0]: (row[1], row[8]) for row in rows if str(row[0]).startswith("小计")}
    assert subtotals == {
        "小计：住院慰问": (16, 4_000),
        "小计：生育慰问": (5, 2_500),
        "小计：丧葬慰问": (2, 20_000),
        "小计：退休慰问": (2, 2_000),
        "小计：困难补助": (6, 6_000),
    }
