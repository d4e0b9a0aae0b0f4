"""kudos allowance counter, the day a kudos used, and when an outbox row was first claimed

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kudos_allowance",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("giver_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "giver_id", "day"),
    )
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allowance_day", sa.Date(), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("first_claimed_at")
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.drop_column("allowance_day")
    op.drop_table("kudos_allowance")
