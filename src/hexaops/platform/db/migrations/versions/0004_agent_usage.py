"""agent usage: tokens and cost of every model call of an agent run

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_usage",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org", sa.String(length=20), nullable=True),
        sa.Column("principal_id", sa.String(length=320), nullable=False),
        sa.Column("session_id", sa.String(length=200), nullable=False),
        sa.Column("turn_id", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Numeric(precision=14, scale=8, asdecimal=False), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_usage")),
    )
    op.create_index("ix_agent_usage_org_at", "agent_usage", ["org", "at"], unique=False)
    op.create_index("ix_agent_usage_session_id", "agent_usage", ["session_id"], unique=False)
    op.create_index("ix_agent_usage_turn_id", "agent_usage", ["turn_id"], unique=False)
    op.create_index(
        op.f("ix_agent_usage_principal_id"), "agent_usage", ["principal_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_agent_usage_principal_id"), table_name="agent_usage")
    op.drop_index("ix_agent_usage_turn_id", table_name="agent_usage")
    op.drop_index("ix_agent_usage_session_id", table_name="agent_usage")
    op.drop_index("ix_agent_usage_org_at", table_name="agent_usage")
    op.drop_table("agent_usage")
