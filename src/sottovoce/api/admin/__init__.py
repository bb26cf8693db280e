"""sottovoce's own routes: health, metrics, workspace settings and its audit log, usage,
history (in ElevenLabs' shape, which every SDK user can read) and the model list.

Errors here are sottovoce's own shape; keys are accepted as ``Bearer``, ``Token`` or a bare
``Authorization`` value, beside every place the vendor surfaces declare.
"""

from __future__ import annotations

from sottovoce.api import keys as key_sources
from sottovoce.api.admin import (
    audit_runs,
    health,
    history,
    keys,
    metrics,
    models,
    probes,
    usage,
    workspace,
)
from sottovoce.api.surface import Surface

SURFACE = Surface(
    name="sottovoce",
    routers=(
        health.router,
        metrics.router,
        workspace.router,
        keys.router,
        audit_runs.router,
        usage.router,
        history.router,
        models.router,
    ),
    key_sources=(
        key_sources.authorization("bearer"),
        key_sources.authorization("token"),
        key_sources.authorization(""),
    ),
    probes=probes.PROBES,
    amend_document=audit_runs.document_probe_names,
    public_paths=frozenset({"/healthz", "/readyz"}),
    content_free_routes=frozenset(
        {
            ("GET", "/healthz"),
            ("GET", "/readyz"),
            ("GET", "/metrics"),
            ("GET", "/v1/workspace"),
            ("PATCH", "/v1/workspace"),
            ("DELETE", "/v1/workspace"),
            ("GET", "/v1/workspace/audit-log"),
            ("GET", "/v1/workspace/keys"),
            ("POST", "/v1/workspace/keys"),
            ("DELETE", "/v1/workspace/keys/{key_id}"),
            ("POST", "/v1/workspace/audit"),
            ("GET", "/v1/workspace/audit"),
            ("GET", "/v1/usage"),
            ("GET", "/v1/models"),
            ("GET", "/v1/history/{history_item_id}"),
            ("GET", "/v1/history/{history_item_id}/audio"),
            ("DELETE", "/v1/history/{history_item_id}"),
        }
    ),
)
