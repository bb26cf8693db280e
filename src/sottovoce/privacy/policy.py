"""The retention policy: one pure decision per request.

``decide`` reads the workspace's settings, the request's flags, the product and (when a
provider will see the content) the route, and returns a :class:`RetentionDecision`, or raises
a :class:`~sottovoce.errors.RetentionRefused` when the request cannot be served as asked. It does
no I/O; everything after it obeys the decision it is handed.

The rules, in order:

1. Zero retention applies when the workspace has ZDR on, the agent has it on, or the request
   says ``enable_logging=false``. A workspace whose ZDR was withdrawn (restricted) may not ask
   for it per request either: it is refused, never silently logged.
2. Under zero retention, a product that retains its source material by nature (cloning, voice
   design) is refused, and so is a request that asks for its output to be saved as a feature
   (Cartesia's ``save``), and so is a provider whose declaration does not cover the mode, unless
   the workspace admin allowed uncovered providers (then the decision says so).
3. Under zero retention nothing is retained, whatever the request asks: workspace ZDR wins.
4. Otherwise an explicit opt-out (``enable_logging=false``, ``store=false``) keeps nothing, an
   explicit opt-in (``store=true``, ``save=true``, ``enable_logging=true``) keeps the content,
   and without either the product's default applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sottovoce.errors import (
    NotZdrEligible,
    ProviderNotCovered,
    SaveRefusedUnderZdr,
    ZdrRequiresEnterprise,
    ZdrWithdrawn,
)
from sottovoce.privacy.eligibility import ELIGIBILITY, Product
from sottovoce.privacy.providers import Mode, ProviderInfo


class Plan(StrEnum):
    FREE = "free"
    ENTERPRISE = "enterprise"


class Reason(StrEnum):
    """Why content is or is not retained; stored on usage records and shown to clients."""

    WORKSPACE_ZDR = "workspace_zdr"
    AGENT_ZDR = "agent_zdr"
    REQUEST_ZDR = "request_enable_logging_false"
    REQUEST_STORE_FALSE = "request_store_false"
    REQUEST_OPT_IN = "request_opt_in"
    PRODUCT_DEFAULT_RETAINED = "product_default_retained"
    PRODUCT_DEFAULT_NOT_RETAINED = "product_default_not_retained"


@dataclass(frozen=True)
class WorkspaceRetention:
    """The workspace settings the policy reads."""

    zdr_enabled: bool
    plan: Plan = Plan.FREE
    restricted: bool = False
    restricted_reason: str | None = None
    allow_uncovered_providers: bool = False


@dataclass(frozen=True)
class RequestFlags:
    """What the request itself asks for. ``None`` means the client did not say."""

    enable_logging: bool | None = None
    """ElevenLabs' query parameter; ``False`` asks for zero retention."""
    store: bool | None = None
    """OpenAI's body field; ``False`` asks not to keep this one, ``True`` to keep it."""
    agent_zero_retention: bool = False
    """The agent serving the request has ``zero_retention_mode`` on."""
    save: bool = False
    """The client asks for the output to be kept as a feature (Cartesia's ``save``): a
    retention path, refused under zero retention, an opt-in otherwise."""


@dataclass(frozen=True)
class Route:
    """Who will see the content, and how."""

    provider: ProviderInfo
    mode: Mode


@dataclass(frozen=True)
class RetentionDecision:
    retain: bool
    """May the content be written to history?"""
    zero_retention: bool
    """Is the request under ZDR (nothing but usage metadata may outlive it)?"""
    reason: Reason
    provider_uncovered: bool = False
    """Sent to a provider that does not declare zero retention (the admin allowed it)."""


def _zero_retention_reason(workspace: WorkspaceRetention, flags: RequestFlags) -> Reason | None:
    if workspace.zdr_enabled:
        return Reason.WORKSPACE_ZDR
    if flags.agent_zero_retention:
        return Reason.AGENT_ZDR
    if flags.enable_logging is False:
        return Reason.REQUEST_ZDR
    return None


def decide(
    workspace: WorkspaceRetention,
    flags: RequestFlags,
    product: Product,
    route: Route | None = None,
) -> RetentionDecision:
    """The one retention decision for a request. Raises ``RetentionRefused`` subclasses."""
    zdr_reason = _zero_retention_reason(workspace, flags)
    if zdr_reason is not None:
        if workspace.restricted and zdr_reason is not Reason.WORKSPACE_ZDR:
            raise ZdrWithdrawn(_withdrawn_message(workspace))
        if not ELIGIBILITY[product].zdr_eligible:
            raise NotZdrEligible()
        if flags.save:
            raise SaveRefusedUnderZdr()
        uncovered = route is not None and not route.provider.covers(route.mode)
        if uncovered and not workspace.allow_uncovered_providers:
            raise ProviderNotCovered()
        return RetentionDecision(
            retain=False, zero_retention=True, reason=zdr_reason, provider_uncovered=uncovered
        )

    if flags.store is False:
        return RetentionDecision(
            retain=False, zero_retention=False, reason=Reason.REQUEST_STORE_FALSE
        )
    if flags.store is True or flags.save or flags.enable_logging is True:
        return RetentionDecision(retain=True, zero_retention=False, reason=Reason.REQUEST_OPT_IN)
    if ELIGIBILITY[product].retained_by_default:
        return RetentionDecision(
            retain=True, zero_retention=False, reason=Reason.PRODUCT_DEFAULT_RETAINED
        )
    return RetentionDecision(
        retain=False, zero_retention=False, reason=Reason.PRODUCT_DEFAULT_NOT_RETAINED
    )


def check_zdr_setting(workspace: WorkspaceRetention, zdr_enabled: bool) -> None:
    """Refuse turning workspace ZDR on where it is not available, saying why."""
    if not zdr_enabled:
        return
    if workspace.restricted:
        raise ZdrWithdrawn(_withdrawn_message(workspace))
    if workspace.plan is not Plan.ENTERPRISE:
        raise ZdrRequiresEnterprise()


def _withdrawn_message(workspace: WorkspaceRetention) -> str:
    # The reason is the operator's own words about the workspace, never request content.
    why = workspace.restricted_reason or "no reason recorded"
    return f"Zero data retention has been withdrawn for this workspace by the operator: {why}"
