"""The initial schema: suggestions, status changes, resident messages, events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "suggestions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False, unique=True),
        sa.Column("resident_ref", sa.String(64), nullable=False, index=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("street", sa.String(32), nullable=False, index=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("status", sa.String(24), nullable=False, index=True),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
    )
    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("suggestion_id", sa.String(32), sa.ForeignKey("suggestions.id"), nullable=False, index=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("reply", sa.Text, nullable=False),
        sa.Column("at", STAMP, nullable=False),
    )
    op.create_table(
        "resident_messages",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("suggestion_id", sa.String(32), sa.ForeignKey("suggestions.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("at", STAMP, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("suggestion_id", sa.String(32), sa.ForeignKey("suggestions.id"), nullable=False, index=True),
        sa.Column("type", sa.String(24), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("delivered_at", STAMP, nullable=True, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", STAMP, nullable=False),
    )


def downgrade() -> None:
    for table in ("events", "resident_messages", "status_changes", "suggestions"):
        op.drop_table(table)
