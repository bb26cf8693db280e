"""The web console: static pages that speak to this server's own JSON and socket APIs with
the key the user signs in with. They take no content themselves, so they need no probe."""

from __future__ import annotations

from sottovoce.api.console import pages
from sottovoce.api.surface import Surface

SURFACE = Surface(
    name="console",
    routers=(pages.router,),
    content_free_routes=frozenset({("GET", "/"), ("GET", "/console/{name}")}),
)
