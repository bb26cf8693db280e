"""The usage meter: filled in while a request or session runs, written when it ends.

Every field is metadata (ids, enum values, counts): the stored usage record is built from it
and has no field that could hold content.
"""

from __future__ import annotations

from dataclasses import dataclass

from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RetentionDecision, Route


@dataclass
class UsageMeter:
    request_id: str
    started_at_ms: int
    workspace_id: str | None = None
    """Set once the request is authenticated; an unauthenticated request is not metered."""
    key_id: str | None = None
    product: Product | None = None
    model_id: str | None = None
    """A registry id only, never what the client typed."""
    input_units: float = 0.0
    input_unit: str | None = None
    output_units: float = 0.0
    output_unit: str | None = None
    error_code: str | None = None
    error_status: int | None = None
    """The HTTP status of that error (an utterance's record has no response of its own)."""
    content_retained: bool = False
    zero_retention: bool = False
    retention_reason: str | None = None
    workspace_deleted: bool = False
    """The request deleted its own workspace: nothing of it may be written afterwards."""
    cancelled: bool = False
    """Set by a handler that saw its client go away (streams, WebSockets)."""
    route: str | None = None
    """Who saw the content and what they declare for the mode (``x-sottovoce-retention``):
    ``DECLARATION; provider=NAME; mode=MODE``. Not stored: the model id says as much."""
    provider_uncovered: bool = False
    """A zero-retention request went to a provider that does not cover its mode (allowed by
    the workspace admin): the response says so. Not stored."""

    def record_decision(self, decision: RetentionDecision, route: Route | None = None) -> None:
        self.zero_retention = decision.zero_retention
        self.retention_reason = decision.reason.value
        self.provider_uncovered = decision.provider_uncovered
        if route is not None:
            declared = route.provider.declaration(route.mode).value
            self.route = f"{declared}; provider={route.provider.name}; mode={route.mode.value}"
        # Whether content *was* retained is set by ctx.retain(); the decision only allows it.

    def record_error(self, code: str, status: int) -> None:
        self.error_code = code
        self.error_status = status

    def add_input(self, units: float, unit: str) -> None:
        self.input_units += units
        self.input_unit = unit

    def add_output(self, units: float, unit: str) -> None:
        self.output_units += units
        self.output_unit = unit
