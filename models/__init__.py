"""Tables and domain rules, one module per feature; no Telegram imports here.

Importing this package registers every table on `SQLModel.metadata` (Alembic relies on it).
"""

from models.activities import Activity, Signup, Team
from models.aid import (
    AidApproval,
    AidCase,
    AidEvidence,
    AidLedgerEntry,
    AidPolicy,
    AidStandard,
)
from models.anonymity import SecretKeyCheck
from models.assessment import (
    Assessment,
    AssessmentItem,
    AssessmentScore,
    AssessmentSubmission,
)
from models.ballots import Ballot, BallotElector, BallotPaper
from models.calendar import CalendarEntry
from models.care import CareRound, CareVisit
from models.conversation_state import ConversationState
from models.desk import DeskCard
from models.district_contests import (
    ContestTeam,
    DistrictContest,
    ExcellentNomination,
    ExcellentRound,
)
from models.district_tasks import DistrictTask, TaskAssignment, TaskRule
from models.hardship import HardshipFile
from models.ideas import Idea, IdeaPanelist, IdeaScore, IdeaYear
from models.lease import RunLease
from models.member_snapshots import MemberVersion
from models.members import JoinRequest, Member, MemberRole
from models.notices import Notice, NoticeObjection
from models.organizations import Organization
from models.outbox import Broadcast, OutboxMessage
from models.proposals import (
    CongressSession,
    Department,
    Proposal,
    ProposalAnswer,
    ProposalAssignment,
    ProposalRating,
    ProposalSigner,
)
from models.suggestions import (
    Suggestion,
    SuggestionCategory,
    SuggestionEntry,
    SuggestionPhoto,
)
from models.updates import ProcessedUpdate

__all__ = [
    "Activity",
    "AidApproval",
    "AidCase",
    "AidEvidence",
    "AidLedgerEntry",
    "AidPolicy",
    "AidStandard",
    "Assessment",
    "AssessmentItem",
    "AssessmentScore",
    "AssessmentSubmission",
    "Ballot",
    "BallotElector",
    "BallotPaper",
    "Broadcast",
    "CalendarEntry",
    "CareRound",
    "CareVisit",
    "CongressSession",
    "ContestTeam",
    "ConversationState",
    "Department",
    "DeskCard",
    "DistrictContest",
    "DistrictTask",
    "ExcellentNomination",
    "ExcellentRound",
    "HardshipFile",
    "Idea",
    "IdeaPanelist",
    "IdeaScore",
    "IdeaYear",
    "JoinRequest",
    "Member",
    "MemberRole",
    "MemberVersion",
    "Notice",
    "NoticeObjection",
    "Organization",
    "OutboxMessage",
    "ProcessedUpdate",
    "Proposal",
    "ProposalAnswer",
    "ProposalAssignment",
    "ProposalRating",
    "ProposalSigner",
    "RunLease",
    "SecretKeyCheck",
    "Signup",
    "Suggestion",
    "SuggestionCategory",
    "SuggestionEntry",
    "SuggestionPhoto",
    "TaskAssignment",
    "TaskRule",
    "Team",
]
