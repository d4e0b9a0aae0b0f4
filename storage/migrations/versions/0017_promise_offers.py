"""promise spotting: a workspace turns it on; a person can ask not to be offered again

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 23:59:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("spot_promises", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("person_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("promise_offers", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("person_settings", schema=None) as batch_op:
        batch_op.drop_column("promise_offers")
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("spot_promises")
