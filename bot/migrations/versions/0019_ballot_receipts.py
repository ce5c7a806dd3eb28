"""ballot receipts: receipt hashes move from the papers to a table of their own

A receipt code shown to anyone (a voter proving they voted) opened that voter's paper: its
hash sat in the paper's row. Receipts now live in ballot_receipt (the ballot, a keyed hash, the
day), linked to no paper, rewritten with new random ids at every seal. The hashes of receipts
already issued are moved over as they are (unkeyed SHA-256: models.ballots.check_receipt still
accepts them), in a random order with new random ids; the papers lose their receipt column.
A downgrade cannot pair receipts with papers again (that is the point): the papers get fresh
random values and receipts issued before it can no longer be checked.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 23:10:00.000000
"""

import random
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = sa.BigInteger().with_variant(sa.INTEGER(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    receipts = op.create_table(
        "ballot_receipt",
        sa.Column("id", _KEY, autoincrement=False, nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("cast_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["ballot_id"], ["ballot.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt_hash", name="uq_ballot_receipt_hash"),
    )
    with op.batch_alter_table("ballot_receipt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ballot_receipt_ballot_id"), ["ballot_id"], unique=False
        )
    papers = sa.table(
        "ballot_paper",
        sa.column("ballot_id", sa.Integer()),
        sa.column("receipt_hash", sa.String()),
        sa.column("cast_on", sa.Date()),  # a date on every dialect (SQLite stores text)
    )
    old = op.get_bind().execute(
        sa.select(papers.c.ballot_id, papers.c.receipt_hash, papers.c.cast_on)
    )
    rows = [
        {"id": secrets.randbits(63) or 1, "ballot_id": b, "receipt_hash": h, "cast_on": d}
        for b, h, d in old
    ]
    random.SystemRandom().shuffle(rows)
    if rows:
        op.bulk_insert(receipts, rows)
    with op.batch_alter_table("ballot_paper", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ballot_paper_receipt", type_="unique")
        batch_op.drop_column("receipt_hash")


def downgrade() -> None:
    """Revert this revision (receipts issued so far can no longer be checked)."""
    with op.batch_alter_table("ballot_paper", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt_hash", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    for (paper_id,) in bind.execute(sa.text("SELECT id FROM ballot_paper")).all():
        bind.execute(
            sa.text("UPDATE ballot_paper SET receipt_hash = :h WHERE id = :i"),
            {"h": secrets.token_hex(32), "i": paper_id},
        )
    with op.batch_alter_table("ballot_paper", schema=None) as batch_op:
        batch_op.alter_column("receipt_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_ballot_paper_receipt", ["receipt_hash"])
    with op.batch_alter_table("ballot_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_receipt_ballot_id"))
    op.drop_table("ballot_receipt")
