"""The request context: who asks, the one retention decision, the meter, the road to history.

Every product runs inside a :class:`RequestContext`. It takes the retention decision once
(:meth:`RequestContext.decide`, the policy's pure ``decide`` with this workspace's settings),
records it on the usage meter, and is the only way content reaches history:
:meth:`RequestContext.retain` refuses unless that decision allows it. The context knows nothing
of HTTP or of any vendor's wire format; the API layer builds one per request or socket.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
from sqlalchemy.orm import Session

from sottovoce.config import Settings
from sottovoce.engines.registry import EngineRegistry
from sottovoce.errors import RetentionViolation
from sottovoce.privacy import policy
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.policy import RequestFlags, RetentionDecision, Route
from sottovoce.services.meter import UsageMeter
from sottovoce.store import history, keys
from sottovoce.store.db import Store
from sottovoce.store.history import HistoryContent, NewHistoryItem
from sottovoce.store.keys import ApiKey
from sottovoce.store.workspaces import Workspace

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    """Everything built once at start-up and shared by requests."""

    settings: Settings
    store: Store
    engines: EngineRegistry

    async def in_session(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in a database transaction, off the event loop."""

        def call() -> T:
            with self.store.session() as session:
                return fn(session)

        return await anyio.to_thread.run_sync(call)

    async def lookup_key(self, secret: str) -> tuple[ApiKey, Workspace] | None:
        """The key and its workspace, or ``None`` for an unknown or revoked key."""
        return await self.in_session(lambda s: keys.authenticate(s, secret))


class AlreadyDecided(RuntimeError):
    """A programming error: a request's retention is decided once, and then obeyed."""


class RequestContext:
    """One authenticated request (or socket) of one product."""

    def __init__(
        self,
        services: Services,
        *,
        workspace: Workspace,
        key: ApiKey,
        product: Product,
        usage: UsageMeter,
    ) -> None:
        self.services = services
        self.settings = services.settings
        self.engines = services.engines
        self.workspace = workspace
        self.key = key
        self.product = product
        self.usage = usage
        self.request_id = usage.request_id
        self._decision: RetentionDecision | None = None

    # The one decision ------------------------------------------------------------------------

    def decide(self, flags: RequestFlags, route: Route | None = None) -> RetentionDecision:
        """Decide retention for this request, once (raises ``RetentionRefused`` subclasses)."""
        if self._decision is not None:
            raise AlreadyDecided()
        decision = policy.decide(self.workspace.retention, flags, self.product, route)
        self._decision = decision
        self.usage.record_decision(decision)
        return decision

    @property
    def decision(self) -> RetentionDecision:
        if self._decision is None:
            raise RetentionViolation("Retention was not decided before content was handled.")
        return self._decision

    @property
    def retaining(self) -> bool:
        """Whether content may go to history: products gather it only when this is true."""
        return self._decision is not None and self._decision.retain

    @property
    def keeps_input_audio(self) -> bool:
        """Retaining, and the workspace also keeps the audio it was sent."""
        return self.retaining and self.workspace.keep_input_audio

    # The road to history ---------------------------------------------------------------------

    async def retain(self, content: HistoryContent) -> str:
        """Save content to history under this request's decision; returns the item id.

        Refuses (``RetentionViolation``) when the decision does not allow retention: a product
        that reaches here under zero retention has a bug, and nothing is written."""
        decision = self.decision
        if not decision.retain:
            raise RetentionViolation()
        item = NewHistoryItem.of(
            content, workspace_id=self.workspace.id, request_id=self.request_id
        )
        item_id = await self.services.in_session(lambda s: history.save(s, decision, item))
        self.usage.content_retained = True
        return item_id

    async def run_in_session(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in a database transaction, off the event loop."""
        return await self.services.in_session(fn)
