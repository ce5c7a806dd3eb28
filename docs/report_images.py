"""Draw the sample report charts the README and the committee guide show.

    .venv/bin/python -m docs.report_images [OUT_DIR]

They are the seed's year (tests/support/report_figures.py) drawn by the real chart code, in
Chinese: docs/images/report-aid.png and docs/images/report-proposals.png. Run it again after
changing the charts and commit the pictures.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.i18n import Translator
from models.reports.charts import report_charts
from tests.support.report_figures import seed_figures

IMAGES = Path(__file__).resolve().parent / "images"
SAMPLES = ("aid", "proposals")


def write_samples(out_dir: Path = IMAGES) -> list[Path]:
    """Write the sample charts as report-<name>.png; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for chart in report_charts(seed_figures(), Translator("zh-Hans")):
        if chart.name in SAMPLES:
            path = out_dir / f"report-{chart.name}.png"
            path.write_bytes(chart.png)
            written.append(path)
    return written


def main(argv: list[str]) -> int:
    """Write the samples into argv[0] (default docs/images) and list them."""
    for path in write_samples(Path(argv[0]) if argv else IMAGES):
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
