"""Model calls of each run (tools/llm/usage.py): model, agent, tokens in/out, latency, retries,
outcome and the fallback reason, one row per call (and one per write that fell back offline).

`SqlModelCalls` is the listener the runtime attaches to its models' recorders; `for_thread` and
`totals` read them back per run (thread id), and `/metrics` aggregates them at scrape time
(service/metrics.py `ModelCallsCollector`), so every process's calls are counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Engine, Float, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from service.db.engine import read_session, write_session
from service.db.models import Base, UTCDateTime, utcnow
from tools.llm.usage import ModelCall


class ModelCallRow(Base):
    __tablename__ = "model_calls"
    __table_args__ = (Index(None, "agent", "outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # No FK to runs: chat turns, evals and calls outside a graph have no run row.
    thread_id: Mapped[str | None] = mapped_column(String(128), index=True)
    agent: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))  # ok | invalid | error | fallback
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    streamed: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


@dataclass(frozen=True)
class UsageTotals:
    calls: int  # model calls (fallback rows are not calls)
    tokens_in: int
    tokens_out: int
    latency_s: float
    retries: int
    fallbacks: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "latency_s": round(self.latency_s, 3),
            "retries": self.retries,
            "fallbacks": self.fallbacks,
        }


class SqlModelCalls:
    """Stores each `ModelCall` (a `UsageRecorder` listener) and reads them back per run."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, call: ModelCall) -> None:
        with write_session(self.engine) as session:
            session.add(
                ModelCallRow(
                    thread_id=call.thread_id,
                    agent=call.agent[:64],
                    prompt=(call.prompt or None) and call.prompt[:64],
                    model=call.model[:128],
                    outcome=call.outcome,
                    tokens_in=call.tokens_in,
                    tokens_out=call.tokens_out,
                    latency_ms=round(call.latency_s * 1000, 3),
                    retries=call.retries,
                    streamed=call.streamed,
                    reason=call.reason,
                    created_at=call.at,
                )
            )

    def for_thread(self, thread_id: str) -> list[ModelCall]:
        with read_session(self.engine) as session:
            rows = session.scalars(
                select(ModelCallRow).where(ModelCallRow.thread_id == thread_id).order_by(ModelCallRow.id)
            )
            return [
                ModelCall(
                    model=r.model,
                    agent=r.agent,
                    outcome=r.outcome,  # type: ignore[arg-type]
                    prompt=r.prompt,
                    thread_id=r.thread_id,
                    tokens_in=r.tokens_in,
                    tokens_out=r.tokens_out,
                    latency_s=r.latency_ms / 1000,
                    retries=r.retries,
                    streamed=r.streamed,
                    reason=r.reason,
                    at=r.created_at,
                )
                for r in rows
            ]

    def totals(self, thread_id: str | None = None) -> UsageTotals:
        """Sums over one run (thread), or over everything recorded."""
        stmt = select(
            func.count().filter(ModelCallRow.outcome != "fallback"),
            func.coalesce(func.sum(ModelCallRow.tokens_in), 0),
            func.coalesce(func.sum(ModelCallRow.tokens_out), 0),
            func.coalesce(func.sum(ModelCallRow.latency_ms), 0.0),
            func.coalesce(func.sum(ModelCallRow.retries), 0),
            func.count().filter(ModelCallRow.outcome == "fallback"),
        )
        if thread_id is not None:
            stmt = stmt.where(ModelCallRow.thread_id == thread_id)
        with read_session(self.engine) as session:
            n, t_in, t_out, ms, retries, fallbacks = session.execute(stmt).one()
        return UsageTotals(int(n), int(t_in), int(t_out), float(ms) / 1000, int(retries), int(fallbacks))
