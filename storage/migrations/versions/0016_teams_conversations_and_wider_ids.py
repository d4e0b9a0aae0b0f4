"""Microsoft Teams: conversation references, and ids long enough for Teams'

Teams' ids are longer than Slack's (a user is `29:` and ~100 characters, a tenant is a GUID): every
team, person, channel and message id column widens from 32 to 255 characters. Nothing is rewritten:
Slack's rows stay as they are.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Every id column that was 32 characters wide.
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "channel_member": (
        "team_id",
        "channel_id",
        "user_id",
    ),
    "checkin": (
        "team_id",
        "requester_id",
        "contact_user_id",
    ),
    "checkin_completion": (
        "team_id",
        "requester_id",
    ),
    "kudos": (
        "team_id",
        "giver_id",
        "origin_channel_id",
        "origin_ts",
        "post_channel_id",
        "post_ts",
        "revoked_event_ts",
        "added_event_ts",
    ),
    "kudos_allowance": (
        "team_id",
        "giver_id",
    ),
    "outbox": (
        "team_id",
        "recipient_id",
        "sent_channel_id",
        "sent_ts",
    ),
    "person": (
        "team_id",
        "user_id",
    ),
    "person_dates": (
        "team_id",
        "user_id",
    ),
    "person_settings": (
        "team_id",
        "user_id",
    ),
    "promise": (
        "team_id",
        "promiser_id",
        "origin_channel_id",
        "origin_ts",
    ),
    "workspace": (
        "team_id",
        "kudos_channel_id",
        "welcome_channel_id",
        "celebrations_channel_id",
    ),
    "kudos_recipient": (
        "user_id",
        "team_id",
    ),
    "kudos_value": ("team_id",),
    "promise_promisee": (
        "user_id",
        "team_id",
    ),
}


def _resize(length: int) -> None:
    for table, columns in ID_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.String(length=length))


def upgrade() -> None:
    _resize(255)
    op.create_table(
        "teams_conversation",
        sa.Column("team_id", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=512), nullable=False),
        sa.Column("service_url", sa.String(length=512), nullable=False),
        sa.Column("bot_id", sa.String(length=255), nullable=False),
        sa.Column("team_ref", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "address"),
    )


def downgrade() -> None:
    op.drop_table("teams_conversation")
    _resize(32)
