"""Which engine serves a request: its model's, or one of the operator's fallbacks, each obeying
the request's retention rule.

A model may be offered for one reply, for streams, or both (``ModelInfo.modes``): a request in
another mode is refused before anything is decided. The operator may give a model a fallback
chain (``speech.fallback_models``): the models to try, in order, when its provider fails or
times out before any result. A candidate the policy would refuse for this request (a provider
that does not cover the mode, under zero retention) is never tried; when none may serve, the
request gets the model's own refusal. The request is decided once, for the first candidate;
moving to the next one re-checks that route (:meth:`RequestContext.reroute`), so the response
always names the provider that served it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from sottovoce.engines.base import ModelInfo
from sottovoce.errors import InvalidRequest, UnknownModel, UpstreamFailed, UpstreamTimeout
from sottovoce.privacy.logging import log_event
from sottovoce.privacy.policy import RequestFlags, RetentionDecision, Route
from sottovoce.privacy.providers import Mode
from sottovoce.services.context import RequestContext

log = logging.getLogger("sottovoce.routing")

UPSTREAM_ERRORS = (UpstreamFailed, UpstreamTimeout)
"""What moves a request on to its next candidate."""

_MODE_NAMES = {Mode.SYNC: "one reply", Mode.STREAMING: "streaming"}


class HasInfo(Protocol):
    @property
    def info(self) -> ModelInfo: ...


E = TypeVar("E", bound=HasInfo)
T = TypeVar("T")


def check_mode(info: ModelInfo, mode: Mode, field: str = "model") -> None:
    """Refuse a model that is not offered in this mode (422 naming the model field)."""
    if mode not in info.modes:
        raise InvalidRequest(
            f"This model is not offered for {_MODE_NAMES[mode]} requests.", fields=[field]
        )


def candidates(ctx: RequestContext, first: E, mode: Mode, get: Callable[[str], E]) -> list[E]:
    """The model's engine, then its configured fallbacks that are offered in this mode."""
    chain = [first]
    for model_id in ctx.settings.speech.fallback_models.get(first.info.model_id, ()):
        if not ctx.engines.knows(model_id):
            continue
        try:
            engine = get(model_id)
        except UnknownModel:  # a model of another kind
            continue
        if mode in engine.info.modes and all(e.info.model_id != model_id for e in chain):
            chain.append(engine)
    return chain


def decide(
    ctx: RequestContext, flags: RequestFlags, engines: Sequence[E], mode: Mode
) -> tuple[RetentionDecision, list[E]]:
    """Decide for the first engine the rule allows; the engines that may be tried, in order.
    Raises the first engine's refusal when the rule allows none of them."""
    allowed = [e for e in engines if ctx.allows(flags, Route(e.info.provider, mode))]
    chosen = allowed[0] if allowed else engines[0]
    decision = ctx.decide(flags, Route(chosen.info.provider, mode))  # raises when refused
    ctx.usage.model_id = chosen.info.model_id
    return decision, allowed


def move_on(ctx: RequestContext, failed: HasInfo, engine: HasInfo, mode: Mode) -> None:
    """The request goes to its next candidate."""
    log_event(log, "routing.fallback", model=failed.info.model_id, engine=engine.info.model_id)
    ctx.reroute(Route(engine.info.provider, mode))
    ctx.usage.model_id = engine.info.model_id


async def first_answer(
    ctx: RequestContext, engines: Sequence[E], mode: Mode, call: Callable[[E], Awaitable[T]]
) -> tuple[E, T]:
    """``call`` with each engine in turn until one answers; the last failure is raised."""
    for index, engine in enumerate(engines):
        if index:
            move_on(ctx, engines[index - 1], engine, mode)
        try:
            return engine, await call(engine)
        except UPSTREAM_ERRORS:
            if index == len(engines) - 1:
                raise
    raise AssertionError("no candidate engine")  # pragma: no cover - engines is never empty
