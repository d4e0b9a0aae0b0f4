"""outbox rows remember that an attempt may have reached Slack

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("maybe_sent", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Rows taken over from a crashed sender before this column existed.
    op.execute("UPDATE outbox SET maybe_sent = TRUE WHERE last_error = 'lease expired'")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("maybe_sent")
