"""Three-level routing: the handling unit of each suggestion (区 / 街镇 / 居民区).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("suggestions") as batch:
        batch.add_column(sa.Column("unit", sa.String(64), nullable=False, server_default=""))
        batch.create_index("ix_suggestions_unit", ["unit"])


def downgrade() -> None:
    with op.batch_alter_table("suggestions") as batch:
        batch.drop_index("ix_suggestions_unit")
        batch.drop_column("unit")
