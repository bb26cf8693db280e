"""The request context: who asks, the one retention decision, the meter, the road to history.

Every product runs inside a :class:`RequestContext`. It takes the retention decision once
(:meth:`RequestContext.decide`, the policy's pure ``decide`` with this workspace's settings),
records it on the usage meter, and is the only way content reaches history:
:meth:`RequestContext.retain` refuses unless that decision allows it. The context knows nothing
of HTTP or of any vendor's wire format; the API layer builds one per request or socket.

A socket that carries several utterances (a TTS socket's contexts) gives each one a *child*
context (:meth:`RequestContext.child`): a meter of its own, written as its own usage record when
the utterance ends (:meth:`RequestContext.finish`), and either its own decision (where the
vendor lets each utterance carry its own settings) or its parent's, inherited. Every usage
record, a request's or an utterance's, is built and written by one function,
:meth:`Services.record_usage`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
from sqlalchemy.orm import Session

from sottovoce.config import Settings
from sottovoce.engines.registry import EngineRegistry
from sottovoce.errors import RetentionRefused, RetentionViolation
from sottovoce.privacy import policy
from sottovoce.privacy.eligibility import Product
from sottovoce.privacy.logging import error_fields, log_event
from sottovoce.privacy.policy import RequestFlags, RetentionDecision, Route
from sottovoce.services.admission import Ticket
from sottovoce.services.meter import UsageMeter
from sottovoce.services.sessions import Lease, OpenSessions, Standing
from sottovoce.services.stt_jobs import TranscriptJobs
from sottovoce.store import history, keys, usage
from sottovoce.store.db import Store
from sottovoce.store.history import HistoryContent, NewHistoryItem
from sottovoce.store.ids import now_ms
from sottovoce.store.keys import ApiKey
from sottovoce.store.workspaces import Workspace

T = TypeVar("T")
log = logging.getLogger("sottovoce.usage")


@dataclass(frozen=True)
class Services:
    """Everything built once at start-up and shared by requests."""

    settings: Settings
    store: Store
    engines: EngineRegistry
    jobs: TranscriptJobs = field(default_factory=TranscriptJobs)
    """Async transcripts and their uploads, held in memory only."""
    sessions: OpenSessions = field(default_factory=OpenSessions)
    """The open sockets' leases on their keys and workspaces, re-checked while they live."""

    async def in_session(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in a database transaction, off the event loop."""

        def call() -> T:
            with self.store.session() as session:
                return fn(session)

        return await anyio.to_thread.run_sync(call)

    async def lookup_key(self, secret: str) -> tuple[ApiKey, Workspace] | None:
        """The key and its workspace, or ``None`` for an unknown or revoked key."""
        return await self.in_session(lambda s: keys.authenticate(s, secret))

    async def key_standing(self, key_ids: Collection[str]) -> Standing:
        """Whether each key is revoked, and its workspace now (missing: the key is gone)."""
        return await self.in_session(lambda s: keys.standing(s, key_ids))

    async def watch_sessions(self) -> None:
        """Re-check the open sessions' keys and workspaces until cancelled."""
        interval = self.settings.server.session_recheck_s
        await self.sessions.run_forever(self.key_standing, interval)

    async def record_usage(
        self, meter: UsageMeter, *, duration_ms: int, status: int, outcome: str
    ) -> None:
        """Write the content-free usage record of a metered request or utterance.

        The one place a usage record is built: the request middleware and a socket's utterances
        both come here. A meter that was never authenticated (no workspace or product), or
        whose request deleted its own workspace, writes nothing. The write is shielded from
        cancellation (a client hanging up must not lose its record), and a failure is logged
        by its type and code only."""
        if meter.workspace_id is None or meter.product is None or meter.workspace_deleted:
            return
        known = meter.model_id is not None and self.engines.knows(meter.model_id)
        record = usage.UsageRecord(
            request_id=meter.request_id,
            workspace_id=meter.workspace_id,
            key_id=meter.key_id,
            product=meter.product.value,
            model_id=meter.model_id if known else None,
            started_at_ms=meter.started_at_ms,
            duration_ms=duration_ms,
            input_units=meter.input_units,
            input_unit=meter.input_unit,
            output_units=meter.output_units,
            output_unit=meter.output_unit,
            status_code=status,
            outcome=outcome,
            error_code=meter.error_code,
            content_retained=meter.content_retained,
            zero_retention=meter.zero_retention,
            retention_reason=meter.retention_reason,
        )

        def write() -> None:
            with self.store.session() as session:
                usage.record(session, record)

        try:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(write)
        except Exception as exc:
            log_event(log, "usage_write_failed", logging.ERROR, **error_fields(exc))


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
        self._flags: RequestFlags | None = None
        self._finished = False
        self.lease = Lease(key.id, workspace)
        """What this context was opened with; a socket's lease is re-checked while it lives,
        and once revoked, nothing more is retained (shared by the socket's child contexts)."""
        self.ticket: Ticket | None = None
        """The request's place under admission control (``None``: not under it), given back
        when the request or socket ends, whatever its product does."""

    def child(self, *, inherit_decision: bool) -> RequestContext:
        """A context for one utterance of this socket, metered on its own.

        ``inherit_decision``: the utterance obeys this context's decision (taken once for the
        whole socket; the child then cannot decide again); otherwise the child takes its own
        decision, once, from the utterance's own settings."""
        meter = UsageMeter(
            request_id=self.request_id,
            started_at_ms=now_ms(),
            workspace_id=self.workspace.id,
            key_id=self.key.id,
            product=self.product,
            model_id=self.usage.model_id,
        )
        child = RequestContext(
            self.services, workspace=self.workspace, key=self.key, product=self.product, usage=meter
        )
        child.lease = self.lease
        child.ticket = self.ticket
        if inherit_decision:
            child._decision = self.decision
            meter.record_decision(child._decision)
            meter.route, meter.provider_uncovered = self.usage.route, self.usage.provider_uncovered
        return child

    async def finish(self) -> None:
        """Write this context's usage record now (an utterance that ended); once only.

        Its outcome follows its meter: ``error`` with the error's status when one was recorded,
        ``cancelled`` when it was cut short, ``ok`` otherwise."""
        if self._finished:
            return
        self._finished = True
        meter = self.usage
        outcome, status = "ok", 200
        if meter.error_code is not None:
            outcome, status = "error", meter.error_status or 500
        elif meter.cancelled:
            outcome = "cancelled"
        duration_ms = max(0, now_ms() - meter.started_at_ms)
        await self.services.record_usage(
            meter, duration_ms=duration_ms, status=status, outcome=outcome
        )

    # The one decision ------------------------------------------------------------------------

    @property
    def decided(self) -> bool:
        """Whether this context's decision was taken (or inherited from its socket)."""
        return self._decision is not None

    def decide(self, flags: RequestFlags, route: Route | None = None) -> RetentionDecision:
        """Decide retention for this request, once (raises ``RetentionRefused`` subclasses)."""
        if self._decision is not None:
            raise AlreadyDecided()
        decision = policy.decide(self.workspace.retention, flags, self.product, route)
        self._decision, self._flags = decision, flags
        self.usage.record_decision(decision, route)
        return decision

    def allows(self, flags: RequestFlags, route: Route) -> bool:
        """Whether the policy would serve this request by ``route`` (decides nothing)."""
        try:
            policy.decide(self.workspace.retention, flags, self.product, route)
        except RetentionRefused:
            return False
        return True

    def reroute(self, route: Route) -> RetentionDecision:
        """The request moves to another provider (a fallback): the same flags, decided for the
        new route. What is retained cannot change with the route; only whether the provider
        covers the mode can (and the policy refuses the route if it must)."""
        if self._decision is None or self._flags is None:
            raise RetentionViolation("A request was rerouted before it was decided.")
        decision = policy.decide(self.workspace.retention, self._flags, self.product, route)
        if (decision.retain, decision.zero_retention) != (
            self._decision.retain,
            self._decision.zero_retention,
        ):
            raise RetentionViolation("A fallback would change what the request retains.")
        self._decision = decision
        self.usage.record_decision(decision, route)
        return decision

    @property
    def decision(self) -> RetentionDecision:
        if self._decision is None:
            raise RetentionViolation("Retention was not decided before content was handled.")
        return self._decision

    @property
    def retaining(self) -> bool:
        """Whether content may go to history: products gather it only when this is true.

        False once the context's lease is revoked (its key or its workspace's terms changed):
        a session decided under "retain" keeps nothing after that, not even what it gathered."""
        return self._decision is not None and self._decision.retain and not self.lease.revoked

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
        if not decision.retain or self.lease.revoked:
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
