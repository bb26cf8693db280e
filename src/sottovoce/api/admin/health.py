"""Liveness: no key needed, no content, no usage record."""

from __future__ import annotations

from fastapi import APIRouter

from sottovoce import __version__

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}
