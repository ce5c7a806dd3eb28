"""The proposals' buttons: filing and co-signing (`pp`), the review desk (`pd`), the authors'
ratings (`pr`) and the congress tools (`cg`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button, Id
from models.proposals import Filers, Implementation, ProposalCategory

YesOrCancel = Literal["yes", "cancel"]
ReplyDays = Literal["15", "30", "60"]
Cosigners = Literal["0", "1", "2", "3", "5"]
Verdict = Literal["s", "b", "d"]  # 满意 / 基本满意 / 不满意


# ---- pp: a member's proposals ------------------------------------------------------------


@dataclass(frozen=True)
class ProposalOfMember(Button, prefix="pp"):
    """A member's press on a proposal: co-sign, withdraw, confirm or call off the withdrawal."""

    action: Literal["cosign", "wd", "wdyes", "keep"]
    proposal_id: Id


@dataclass(frozen=True)
class FilingSimilar(Button, prefix="pp:sim"):
    """While filing: co-sign a similar proposal instead (its id) or go on with one's own (mine)."""

    choice: str


@dataclass(frozen=True)
class FilingCategory(Button, prefix="pp:cat"):
    """While filing: the proposal's category."""

    category: ProposalCategory


@dataclass(frozen=True)
class FilingConfirm(Button, prefix="pp:confirm"):
    """While filing: confirm or cancel under the preview."""

    choice: YesOrCancel


# ---- pd: the review desk -----------------------------------------------------------------


@dataclass(frozen=True)
class ProposalDesk(Button, prefix="pd"):
    """A decision on a proposal's desk card (and confirming the departments it is assigned to)."""

    action: Literal[
        "file",  # 立案: asks first (fileok confirms)
        "conv",  # 转为意见建议: asks first (convok confirms)
        "fileok",
        "convok",
        "keep",  # the question answered 取消: nothing decided
        "nofile",
        "merge",
        "asg",
        "ans",
        "close",
        "exc",
        "asgok",
        "impl",  # 更新落实情况 (the committee, on an answered or closed proposal)
    ]
    proposal_id: Id


@dataclass(frozen=True)
class ProposalMerge(Button, prefix="pd:mrg"):
    """Merge a proposal into the one chosen as the survivor."""

    merged_id: Id
    survivor_id: Id


@dataclass(frozen=True)
class ProposalLead(Button, prefix="pd:lead"):
    """Assigning: the lead department (主办)."""

    proposal_id: Id
    department_id: Id


@dataclass(frozen=True)
class ProposalCoHandler(Button, prefix="pd:co"):
    """Assigning: a co-handling department (协办), toggled."""

    proposal_id: Id
    department_id: Id


@dataclass(frozen=True)
class ImplementationPick(Button, prefix="pd:ist"):
    """落实情况 chosen with an answer or a later update (in the presser's private chat)."""

    proposal_id: Id
    status: Implementation


# ---- pr: the authors' rating -------------------------------------------------------------


@dataclass(frozen=True)
class ProposalRating(Button, prefix="pr:rate"):
    """An author's verdict on an answer."""

    proposal_id: Id
    verdict: Verdict


# ---- cg: the congress tools --------------------------------------------------------------


@dataclass(frozen=True)
class CongressOpen(Button, prefix="cg:new"):
    """Open a new proposal window."""


@dataclass(frozen=True)
class CongressReplyDays(Button, prefix="cg:days"):
    """Opening a window: the days the departments have to answer."""

    days: ReplyDays


@dataclass(frozen=True)
class CongressCosigners(Button, prefix="cg:cos"):
    """Opening a window: how many co-signers a proposal needs."""

    count: Cosigners


@dataclass(frozen=True)
class CongressFilers(Button, prefix="cg:filers"):
    """Opening a window: who may file and co-sign."""

    filers: Filers


@dataclass(frozen=True)
class CongressConfirm(Button, prefix="cg:ok"):
    """Opening a window: confirm or cancel under the preview."""

    choice: YesOrCancel


@dataclass(frozen=True)
class CongressFigures(Button, prefix="cg:fig"):
    """Another session's figures and list."""

    session_id: Id


@dataclass(frozen=True)
class CongressExport(Button, prefix="cg:xlsx"):
    """The session's proposals and their handling as a spreadsheet."""

    session_id: Id


@dataclass(frozen=True)
class CongressPublish(Button, prefix="cg:pub"):
    """Publish the session's handling results (办理结果) to the disclosure channel: asked once
    ("ask"), then posted ("yes") or left ("no")."""

    session_id: Id
    step: Literal["ask", "yes", "no"]


@dataclass(frozen=True)
class HandlerPick(Button, prefix="cg:hpick"):
    """On a member card (chair): choose the departments this member answers for."""

    member_id: Id


@dataclass(frozen=True)
class HandlerSet(Button, prefix="cg:hset"):
    """Toggle: this member answers for the department, or the committee does again."""

    member_id: Id
    department_id: Id
