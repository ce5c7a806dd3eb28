"""The district roll-up (/district): every school's figures side by side and the district
total, for the district union's staff only, with the workbook and the charts."""

from __future__ import annotations

from bot.features import DISTRICT_UNION, Audience, CommandSpec, Feature
from handlers.district_report import rollup
from models.errors import N_
from models.reports.district import Metric


def _keys() -> set[str]:
    return {f"rollup.metric.{metric.value}" for metric in Metric}


FEATURE = Feature(
    name="district_report",
    register=rollup.register,
    commands=(
        # Listed for committee members: the menu cannot tell a school's committee from the
        # district's (a Holder sees the actor, not the organization); the handler checks
        # `is_district_staff` and tells a school's committee member to use /report instead.
        CommandSpec(
            "district", N_("rollup.cmd"), Audience.COMMITTEE, order=27, places=DISTRICT_UNION
        ),
    ),
    catalog_keys=_keys,
)
