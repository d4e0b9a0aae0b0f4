"""unanswered questions: the questions kept to nudge about (no text), a daily count per person, and the
workspace's switch, wait and cap

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 00:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("question_nudges", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("question_wait_hours", sa.Integer(), server_default="4", nullable=False)
        )
        batch_op.add_column(sa.Column("question_daily_cap", sa.Integer(), server_default="3", nullable=False))
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(length=255), nullable=False),
        sa.Column("channel_id", sa.String(length=255), nullable=False),
        sa.Column("message_ts", sa.String(length=255), nullable=False),
        sa.Column("thread_ts", sa.String(length=255), nullable=False),
        sa.Column("asker_id", sa.String(length=255), nullable=False),
        sa.Column("asked_id", sa.String(length=255), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("nudge_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("promise_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "channel_id", "message_ts", "asked_id", name="uq_question_asked"),
    )
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.create_index("ix_question_due", ["status", "nudge_after"], unique=False)
        batch_op.create_index("ix_question_thread", ["team_id", "channel_id", "thread_ts"], unique=False)
    op.create_table(
        "question_nudge_count",
        sa.Column("team_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("question_nudge_count")
    op.drop_table("question")
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("question_daily_cap")
        batch_op.drop_column("question_wait_hours")
        batch_op.drop_column("question_nudges")
