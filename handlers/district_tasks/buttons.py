"""The district tasks' buttons: the /dtask form (`dtk:…`), a chair's answer (`dta`, `dtf`) and
the district's list (`dtv`, `dtx`, `dtr`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button, Id
from models.district_tasks import AnswerKind

# ---- /dtask ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSkipFile(Button, prefix="dtk:skip"):
    """No attachment."""

    choice: Literal["skip"]


@dataclass(frozen=True)
class TaskKindChoice(Button, prefix="dtk:kind"):
    """How the schools answer."""

    kind: AnswerKind


@dataclass(frozen=True)
class TaskSchools(Button, prefix="dtk:sch"):
    """All schools, pick some, or done picking."""

    choice: Literal["all", "pick", "ok"]


@dataclass(frozen=True)
class TaskToggle(Button, prefix="dtk:tog"):
    """One school in or out of the picked list."""

    school_id: Id


@dataclass(frozen=True)
class TaskConfirm(Button, prefix="dtk:ok"):
    """Send or drop the task under its preview."""

    choice: Literal["yes", "no"]


# ---- a school chair ------------------------------------------------------------------------
# The outbox stores these as packed text (scheduler/district_task_jobs.py writes the same
# shapes): keep the two in step.


@dataclass(frozen=True)
class TaskAnswer(Button, prefix="dta"):
    """Mark done, or Reply with a file, under a task sent to a school chair."""

    action: Literal["done", "file"]
    assignment_id: Id


@dataclass(frozen=True)
class TaskAttachment(Button, prefix="dtf"):
    """📎 the task's attachment, again."""

    assignment_id: Id


# ---- the district ------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskView(Button, prefix="dtv"):
    """A task's schools and their status."""

    task_id: Id


@dataclass(frozen=True)
class TaskAction(Button, prefix="dtx"):
    """Remind now, Export, send it every month or every year (or stop), or withdraw it (asked
    once more), under a task's status."""

    action: Literal[
        "remind",
        "export",
        "monthly_on",
        "monthly_off",
        "yearly_on",
        "yearly_off",
        "withdraw",
        "withdraw_yes",
    ]
    task_id: Id


@dataclass(frozen=True)
class TaskFetch(Button, prefix="dtr"):
    """The file a school sent back, re-sent to the district."""

    assignment_id: Id
