"""round prediction matrix stored at close

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("predictions_sha256", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_rounds_predictions_sha256_blobs"), "blobs", ["predictions_sha256"], ["sha256"]
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_rounds_predictions_sha256_blobs"), type_="foreignkey")
        batch_op.drop_column("predictions_sha256")
