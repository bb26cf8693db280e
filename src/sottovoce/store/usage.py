"""Usage records: content-free billing metadata, one per request, on every path.

The stored record has no field that could hold content: identifiers we made, enum values we
chose, numbers. A model id is written only if the registry knows it (never what a client typed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sottovoce.store.schema import UsageRow


@dataclass(frozen=True)
class UsageRecord:
    request_id: str
    workspace_id: str
    key_id: str | None
    product: str
    model_id: str | None
    started_at_ms: int
    duration_ms: int
    input_units: float
    input_unit: str | None
    output_units: float
    output_unit: str | None
    status_code: int
    outcome: str
    """``ok``, ``error`` or ``cancelled`` (the client went away before the end)."""
    error_code: str | None
    content_retained: bool
    zero_retention: bool
    retention_reason: str | None


@dataclass(frozen=True)
class UsageTotals:
    product: str
    requests: int
    input_units: float
    input_unit: str | None
    output_units: float
    output_unit: str | None
    duration_ms: int


def record(session: Session, usage: UsageRecord) -> None:
    session.add(UsageRow(**asdict(usage)))


def _filtered(workspace_id: str, start_ms: int | None, end_ms: int | None, product: str | None):  # type: ignore[no-untyped-def]
    conditions = [UsageRow.workspace_id == workspace_id]
    if start_ms is not None:
        conditions.append(UsageRow.started_at_ms >= start_ms)
    if end_ms is not None:
        conditions.append(UsageRow.started_at_ms < end_ms)
    if product is not None:
        conditions.append(UsageRow.product == product)
    return conditions


def query(
    session: Session,
    workspace_id: str,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    product: str | None = None,
    limit: int = 1000,
) -> list[UsageRecord]:
    rows = session.scalars(
        select(UsageRow)
        .where(*_filtered(workspace_id, start_ms, end_ms, product))
        .order_by(UsageRow.started_at_ms, UsageRow.id)
        .limit(limit)
    )
    names = UsageRecord.__dataclass_fields__
    return [UsageRecord(**{n: getattr(r, n) for n in names}) for r in rows]


def totals(
    session: Session,
    workspace_id: str,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    product: str | None = None,
) -> list[UsageTotals]:
    rows = session.execute(
        select(
            UsageRow.product,
            UsageRow.input_unit,
            UsageRow.output_unit,
            func.count(UsageRow.id),
            func.coalesce(func.sum(UsageRow.input_units), 0.0),
            func.coalesce(func.sum(UsageRow.output_units), 0.0),
            func.coalesce(func.sum(UsageRow.duration_ms), 0),
        )
        .where(*_filtered(workspace_id, start_ms, end_ms, product))
        .group_by(UsageRow.product, UsageRow.input_unit, UsageRow.output_unit)
        .order_by(UsageRow.product)
    )
    return [
        UsageTotals(
            product=p,
            requests=int(n),
            input_units=float(i),
            input_unit=iu,
            output_units=float(o),
            output_unit=ou,
            duration_ms=int(d),
        )
        for p, iu, ou, n, i, o, d in rows
    ]
