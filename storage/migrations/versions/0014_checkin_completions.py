"""each check-in "Done" is kept, so a week's completions can be counted

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkin_completion",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "checkin_id", "token", name="uq_checkin_completion_token"),
    )
    with op.batch_alter_table("checkin_completion", schema=None) as batch_op:
        batch_op.create_index("ix_checkin_completion_checkin_id", ["checkin_id"], unique=False)
        batch_op.create_index("ix_checkin_completion_done_at", ["done_at"], unique=False)


def downgrade() -> None:
    op.drop_table("checkin_completion")
