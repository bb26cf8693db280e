"""Query parameters that routes read by hand, described for the OpenAPI document.

Deepgram's routes take their options in the query and read them from the request themselves
(the REST route and its socket share the reading). FastAPI then knows nothing of them;
:func:`query_parameters` gives such a route its ``openapi_extra``. Only parameters that are
valid on their own are described with a schema: where one parameter's valid values depend on
another's (an output ``sample_rate`` on its ``encoding``), the route's description says so, since
a document that listed them independently would call refused combinations valid.
"""

from __future__ import annotations

from typing import Any

FLAG: dict[str, Any] = {"type": "boolean"}
"""``true`` or ``false`` (``1`` and ``0`` are read too)."""


def query_parameters(described: dict[str, tuple[dict[str, Any], str]]) -> dict[str, Any]:
    """``openapi_extra`` of a route that reads these optional query parameters: name ->
    (schema, description)."""
    return {
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": schema, "description": text}
            for name, (schema, text) in described.items()
        ]
    }
