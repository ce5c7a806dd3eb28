"""The bot's data files (the database, the conversation store, secret.key): readable by the
bot's own user only, from the moment they exist.

A file is created 0600 and a folder 0700 in the system call that makes it, never widened and
narrowed afterwards, so there is no moment in which another user of the server could open it.
A file that already exists with wider permissions (made by an older version) is narrowed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
PRIVATE_UMASK = 0o077  # what the process creates is its own user's only


def private_dir(path: Path) -> Path:
    """Create `path` and any missing parents 0700; a folder that exists is left as it is (the
    operator may have chosen to share it)."""
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, PRIVATE_DIR)
    return path


def narrow(path: Path) -> None:
    """Take away the group's and others' permissions from an existing file."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        os.chmod(path, mode & 0o700)
        logger.warning("Permissions of %s narrowed to the bot's own user", path.name)


def private_file(path: Path) -> Path:
    """Create `path` empty and 0600 if it is missing (in a 0700 folder); narrow it if not."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        return path
    narrow(path)
    return path


def write_new_private(path: Path, text: str) -> bool:
    """Write `text` to `path` if it does not exist yet, created 0600; False if it existed."""
    private_dir(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        narrow(path)
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as target:
        target.write(text)
    return True


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Files created inside (by a library that opens them itself) are 0600, folders 0700."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)
