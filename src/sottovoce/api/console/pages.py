"""The console's static files (``src/sottovoce/web/``): ``GET /`` and ``GET /console/{name}``.

Every reply carries a strict Content-Security-Policy (scripts, styles and connections from this
server only, no inline code), ``Cache-Control: no-store`` and no referrer. Only plain files of
the web folder with a known type are served: no listing, no sub-folder, no path tricks.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from sottovoce.errors import RouteNotFound

router = APIRouter(tags=["console"], include_in_schema=False)

WEB_DIR = Path(__file__).resolve().parent.parent.parent / "web"
"""``src/sottovoce/web``: shipped in the wheel with the package."""

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,60}\.[a-z]{2,4}")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        # 'self' covers ws: and wss: to this host (CSP level 3), for the realtime sockets.
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
}


def _file(name: str) -> Response:
    path = WEB_DIR / name
    media_type = MEDIA_TYPES.get(path.suffix)
    if not _NAME.fullmatch(name) or media_type is None or not path.is_file():
        raise RouteNotFound("No such page.")
    return Response(content=path.read_bytes(), media_type=media_type, headers=HEADERS)


@router.get("/")
async def console_index() -> Response:
    return _file("index.html")


@router.get("/console/{name}")
async def console_file(name: str) -> Response:
    return _file(name)
