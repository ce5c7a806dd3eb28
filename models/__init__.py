"""Tables and domain rules, one module per feature; no Telegram imports here.

Importing this package registers every table on `SQLModel.metadata` (Alembic relies on it).
"""

from models.calendar import CalendarEntry
from models.desk import DeskCard
from models.members import JoinRequest, Member, MemberRole
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
    AnonymousQuota,
    Suggestion,
    SuggestionCategory,
    SuggestionEntry,
    SuggestionPhoto,
)
from models.updates import ProcessedUpdate

__all__ = [
    "AnonymousQuota",
    "Broadcast",
    "CalendarEntry",
    "CongressSession",
    "Department",
    "DeskCard",
    "JoinRequest",
    "Member",
    "MemberRole",
    "Organization",
    "OutboxMessage",
    "ProcessedUpdate",
    "Proposal",
    "ProposalAnswer",
    "ProposalAssignment",
    "ProposalRating",
    "ProposalSigner",
    "Suggestion",
    "SuggestionCategory",
    "SuggestionEntry",
    "SuggestionPhoto",
]
