"""outbox rows folded into a person's daily digest remember which

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_key", sa.String(length=255), nullable=True))
        batch_op.create_index("ix_outbox_digest_key", ["team_id", "digest_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_digest_key")
        batch_op.drop_column("digest_key")
