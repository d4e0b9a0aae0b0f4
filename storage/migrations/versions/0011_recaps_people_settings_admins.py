"""weekly recaps, the workspace timezone, ExtraMile admins, and each person's working hours, absence
and digest choice

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("recaps", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("recap_names", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("admin_ids", sa.JSON(), server_default="[]", nullable=False))
    op.create_table(
        "person_settings",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("work_days", sa.JSON(), nullable=False),
        sa.Column("work_start", sa.Time(), nullable=False),
        sa.Column("work_end", sa.Time(), nullable=False),
        sa.Column("away_until", sa.Date(), nullable=True),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("person_settings")
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("admin_ids")
        batch_op.drop_column("recap_names")
        batch_op.drop_column("recaps")
        batch_op.drop_column("timezone")
