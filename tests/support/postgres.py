"""Find the PostgreSQL server the tests may use; print its URL (or nothing) when run.

`make test-pg` runs this: where a server answers on 127.0.0.1:5432 (trust auth, database
`test`), the whole suite runs against it as well. If the machine has a stopped cluster, this
tries to start it once.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def _answers() -> bool:
    import asyncpg

    try:
        connection = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test", timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


def _try_start() -> None:
    clusters = Path("/etc/postgresql")
    if not shutil.which("pg_ctlcluster") or not clusters.is_dir():
        return
    for version in sorted(clusters.iterdir()):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version.name, "main", "start"],
            check=False,
            capture_output=True,
            timeout=60,
        )


def find() -> str | None:
    """The test database URL if a server answers (starting a local one if needed)."""
    if asyncio.run(_answers()):
        return URL
    _try_start()
    return URL if asyncio.run(_answers()) else None


if __name__ == "__main__":
    print(find() or "")
