"""``GET /v1/usage``: this workspace's usage records and totals (content-free by construction)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from sottovoce.api.deps import context
from sottovoce.api.params import MAX_UNIX_SECONDS
from sottovoce.privacy.eligibility import Product
from sottovoce.services.context import RequestContext
from sottovoce.store import usage
from sottovoce.store.usage import UsageRecord, UsageTotals

router = APIRouter(prefix="/v1/usage", tags=["usage"])
_FROM = "from (inclusive), seconds"
_TO = "to (exclusive), seconds"


class UsageOut(BaseModel):
    records: list[UsageRecord]
    totals: list[UsageTotals]
    has_more: bool


@router.get("")
async def get_usage(
    ctx: Annotated[RequestContext, Depends(context(Product.USAGE))],
    start_unix: Annotated[int | None, Query(ge=0, le=MAX_UNIX_SECONDS, description=_FROM)] = None,
    end_unix: Annotated[int | None, Query(ge=0, le=MAX_UNIX_SECONDS, description=_TO)] = None,
    product: Annotated[Product | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> UsageOut:
    start_ms = start_unix * 1000 if start_unix is not None else None
    end_ms = end_unix * 1000 if end_unix is not None else None
    name = product.value if product else None

    def read(session: Session) -> tuple[list[UsageRecord], list[UsageTotals]]:
        records = usage.query(
            session,
            ctx.workspace.id,
            start_ms=start_ms,
            end_ms=end_ms,
            product=name,
            limit=limit + 1,
        )
        totals = usage.totals(
            session,
            ctx.workspace.id,
            start_ms=start_ms,
            end_ms=end_ms,
            product=name,
        )
        return records, totals

    records, totals = await ctx.run_in_session(read)
    return UsageOut(records=records[:limit], totals=totals, has_more=len(records) > limit)
