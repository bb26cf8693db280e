"""workspace voices and their samples

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voices",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("model_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("error_code", sa.String(length=48), nullable=True),
        sa.Column("speed", sa.Float(), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("sample_count", sa.Integer(), nullable=False),
        sa.Column("meta", sa.LargeBinary(), nullable=False),
        sa.Column("pack", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_voices_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voices")),
    )
    with op.batch_alter_table("voices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_voices_workspace_created", ["workspace_id", "created_at_ms"], unique=False
        )

    op.create_table(
        "voice_samples",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("voice_id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.LargeBinary(), nullable=False),
        sa.Column("audio", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["voice_id"],
            ["voices.id"],
            name=op.f("fk_voice_samples_voice_id_voices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_samples")),
    )
    with op.batch_alter_table("voice_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voice_samples_voice_id"), ["voice_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_voice_samples_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voice_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_samples_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_voice_samples_voice_id"))
    op.drop_table("voice_samples")
    with op.batch_alter_table("voices", schema=None) as batch_op:
        batch_op.drop_index("ix_voices_workspace_created")
    op.drop_table("voices")
