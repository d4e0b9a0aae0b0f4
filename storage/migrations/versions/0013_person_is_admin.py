"""the people cache remembers who is a workspace admin or owner

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Cached answers from before this column cannot say: look everyone up again.
    op.execute("UPDATE person SET refreshed_at = '2000-01-01 00:00:00+00:00'")


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("is_admin")
