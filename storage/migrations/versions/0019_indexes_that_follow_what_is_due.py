"""indexes that follow what is due: the planners, the recap and the leaderboard read what a day or a
week holds, not what a workspace ever stored

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 03:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# (table, index, columns), in the order they are created.
INDEXES = (
    # A week's kudos in one workspace: the weekly leaderboard and the recap.
    ("kudos", "ix_kudos_team_created", ["team_id", "created_at"]),
    # Open promises past due, in due order: the nudge planner (every workspace) and the recap.
    ("promise", "ix_promise_open_due", ["status", "due_at", "id"]),
    # One person's open promises in due order (`/promise list`): SQLite, which keeps no statistics,
    # would otherwise take the index above for its order. It replaces the promiser's index, its prefix.
    ("promise", "ix_promise_promiser_open", ["promiser_id", "status", "due_at"]),
    # Promises kept in a week, in one workspace: the recap.
    ("promise", "ix_promise_team_closed", ["team_id", "closed_at"]),
    # The active check-ins the planner pages through in id order, without the stopped ones.
    ("checkin", "ix_checkin_active", ["status", "id"]),
    # Check-ins done in a week, in one workspace: the recap.
    ("checkin_completion", "ix_checkin_completion_team_done", ["team_id", "done_at"]),
    # The birthdays and anniversaries that fall in the next few days: the celebrations planner.
    ("person_dates", "ix_person_dates_birthday", ["birthday_month", "birthday_day"]),
    ("person_dates", "ix_person_dates_start", ["start_date"]),
    # One person's messages around a time: a nudge kept quiet by a reminder, a person forgotten, back.
    ("outbox", "ix_outbox_recipient", ["team_id", "recipient_id", "deliver_after"]),
    # A week's messages of one kind in one workspace: the recap's newcomers.
    ("outbox", "ix_outbox_team_kind_created", ["team_id", "kind", "created_at"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.drop_index("ix_promise_promiser_id", table_name="promise")


def downgrade() -> None:
    op.create_index("ix_promise_promiser_id", "promise", ["promiser_id"], unique=False)
    for table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
