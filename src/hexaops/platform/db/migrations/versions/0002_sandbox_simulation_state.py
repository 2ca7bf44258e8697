"""sandbox simulation state: clock, injected faults with ground truth, workload runtime state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tick", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_clock")),
    )
    op.create_table(
        "sandbox_faults",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("cluster", sa.String(length=80), nullable=False),
        sa.Column("org", sa.String(length=20), nullable=False),
        sa.Column("workspace", sa.String(length=39), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("target", sa.String(length=253), nullable=False),
        sa.Column("start_tick", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_tick", sa.BigInteger(), nullable=True),
        sa.Column("baseline", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("progress", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("truth", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_faults")),
    )
    op.create_index(op.f("ix_sandbox_faults_cluster"), "sandbox_faults", ["cluster"], unique=False)
    op.create_index(op.f("ix_sandbox_faults_status"), "sandbox_faults", ["status"], unique=False)
    op.create_table(
        "sandbox_workload_states",
        sa.Column("cluster", sa.String(length=80), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("pods", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "cluster", "namespace", "name", name=op.f("pk_sandbox_workload_states")
        ),
    )


def downgrade() -> None:
    op.drop_table("sandbox_workload_states")
    op.drop_index(op.f("ix_sandbox_faults_status"), table_name="sandbox_faults")
    op.drop_index(op.f("ix_sandbox_faults_cluster"), table_name="sandbox_faults")
    op.drop_table("sandbox_faults")
    op.drop_table("sandbox_clock")
