"""The district roll-up (/district): every school's figures side by side and the district
total, for the district union's staff only, with the workbook and the charts."""

from __future__ import annotations

from bot.features import DISTRICT_UNION, Audience, CommandSpec, Feature, MenuEntry
from handlers.district_report import rollup
from models.errors import N_
from models.reports.district import Metric


def _keys() -> set[str]:
    return {f"rollup.metric.{metric.value}" for metric in Metric}


FEATURE = Feature(
    name="district_report",
    register=rollup.register,
    commands=(
        # Offered at the district union only; the handler checks `is_district_staff` again
        # and tells a school's committee member who types it to use /report instead.
        CommandSpec(
            "district", N_("rollup.cmd"), Audience.COMMITTEE, order=27, places=DISTRICT_UNION
        ),
    ),
    menu=(
        MenuEntry(
            "district",
            N_("menu.district"),
            Audience.COMMITTEE,
            rollup.district_command,
            order=20,
            places=DISTRICT_UNION,
        ),
    ),
    catalog_keys=_keys,
)
