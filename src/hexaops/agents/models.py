"""Tables of the agents: the usage of every model call (tokens, cost), for budgets and reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from hexaops.platform.db.models import Base, utcnow


class AgentUsage(Base):
    """One model call of an agent run. `cost_usd` NULL means unpriced; `note` says why.

    Rows are written once and never updated; `org` is the organization slug charged for the
    call (NULL for a principal without an organization).
    """

    __tablename__ = "agent_usage"
    __table_args__ = (
        Index("ix_agent_usage_org_at", "org", "at"),
        Index("ix_agent_usage_session_id", "session_id"),
        Index("ix_agent_usage_turn_id", "turn_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    org: Mapped[str | None] = mapped_column(String(20))
    principal_id: Mapped[str] = mapped_column(String(320), index=True)
    session_id: Mapped[str] = mapped_column(String(200))
    turn_id: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200))
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float | None] = mapped_column(Numeric(14, 8, asdecimal=False))
    note: Mapped[str | None] = mapped_column(String(300))
