"""The retention policy, exhaustively: every combination of workspace, flags, product, route."""

from __future__ import annotations

import itertools

import pytest

from sottovoce.errors import (
    NotZdrEligible,
    ProviderNotCovered,
    RetentionRefused,
    SaveRefusedUnderZdr,
    ZdrRequiresEnterprise,
    ZdrWithdrawn,
)
from sottovoce.privacy.eligibility import ELIGIBILITY, Product
from sottovoce.privacy.policy import (
    Plan,
    Reason,
    RequestFlags,
    Route,
    WorkspaceRetention,
    check_zdr_setting,
    decide,
)
from sottovoce.privacy.providers import (
    LOCAL_PROVIDER,
    SPEECH_DEFAULTS,
    Mode,
    ProviderInfo,
    RetentionDeclaration,
)

_RETAINS = RetentionDeclaration.RETAINS

STREAM_ONLY = ProviderInfo(
    "stream-only",
    {
        Mode.STREAMING: RetentionDeclaration.ZDR_BY_AGREEMENT,
        Mode.SYNC: RetentionDeclaration.RETAINS,
    },
)
ROUTES = [
    None,
    Route(LOCAL_PROVIDER, Mode.SYNC),
    Route(STREAM_ONLY, Mode.STREAMING),
    Route(STREAM_ONLY, Mode.SYNC),
]
WORKSPACES = [
    WorkspaceRetention(
        zdr_enabled=zdr,
        plan=plan,
        restricted=restricted,
        restricted_reason="abuse review" if restricted else None,
        allow_uncovered_providers=allow,
    )
    for zdr, plan, restricted, allow in itertools.product(
        [False, True], list(Plan), [False, True], [False, True]
    )
    # A workspace never holds ZDR it could not have turned on.
    if not (zdr and (plan is not Plan.ENTERPRISE or restricted))
]
FLAGS = [
    RequestFlags(enable_logging=e, store=s, agent_zero_retention=a)
    for e, s, a in itertools.product([None, True, False], [None, True, False], [False, True])
]
CASES = list(itertools.product(WORKSPACES, FLAGS, list(Product), ROUTES))


def _asks_zero_retention(ws: WorkspaceRetention, flags: RequestFlags) -> bool:
    return ws.zdr_enabled or flags.agent_zero_retention or flags.enable_logging is False


def _uncovered(route: Route | None) -> bool:
    return route is not None and not route.provider.covers(route.mode)


def test_every_combination_obeys_the_rules() -> None:
    for ws, flags, product, route in CASES:
        _check(ws, flags, product, route)


def _check(
    ws: WorkspaceRetention, flags: RequestFlags, product: Product, route: Route | None
) -> None:
    zero = _asks_zero_retention(ws, flags)
    try:
        decision = decide(ws, flags, product, route)
    except ZdrWithdrawn:
        assert zero and ws.restricted and not ws.zdr_enabled
        return
    except NotZdrEligible:
        assert zero and not ELIGIBILITY[product].zdr_eligible
        return
    except ProviderNotCovered:
        assert zero and _uncovered(route) and not ws.allow_uncovered_providers
        return
    # Served: zero retention exactly when asked, and then nothing is kept, whatever else.
    assert decision.zero_retention == zero
    if zero:
        assert decision.retain is False
        assert ELIGIBILITY[product].zdr_eligible
        assert decision.provider_uncovered == _uncovered(route)
    else:
        assert decision.provider_uncovered is False
        expected = (
            False
            if flags.store is False
            else True
            if flags.store is True or flags.enable_logging is True
            else ELIGIBILITY[product].retained_by_default
        )
        assert decision.retain == expected


def test_the_table_has_every_case() -> None:
    assert len(CASES) == len(WORKSPACES) * 18 * len(Product) * 4
    assert len(WORKSPACES) == 10


ZDR = WorkspaceRetention(zdr_enabled=True, plan=Plan.ENTERPRISE)
OPEN = WorkspaceRetention(zdr_enabled=False, plan=Plan.FREE)


def test_workspace_zdr_wins_over_a_request_asking_to_be_logged() -> None:
    decision = decide(ZDR, RequestFlags(enable_logging=True, store=True), Product.TTS)
    assert (decision.retain, decision.reason) == (False, Reason.WORKSPACE_ZDR)


def test_request_enable_logging_false_is_zero_retention() -> None:
    decision = decide(OPEN, RequestFlags(enable_logging=False), Product.STT)
    assert (decision.retain, decision.zero_retention) == (False, True)
    assert decision.reason is Reason.REQUEST_ZDR


def test_store_false_keeps_nothing_but_is_not_zdr_routing() -> None:
    route = Route(STREAM_ONLY, Mode.SYNC)
    decision = decide(OPEN, RequestFlags(store=False), Product.LLM, route)
    assert (decision.retain, decision.zero_retention) == (False, False)


def test_chat_is_kept_only_with_store_true() -> None:
    assert decide(OPEN, RequestFlags(), Product.LLM).retain is False
    assert decide(OPEN, RequestFlags(store=True), Product.LLM).retain is True


def test_tts_is_kept_by_default_without_zdr() -> None:
    decision = decide(OPEN, RequestFlags(), Product.TTS)
    assert (decision.retain, decision.reason) == (True, Reason.PRODUCT_DEFAULT_RETAINED)


@pytest.mark.parametrize("product", [Product.VOICE_CLONING, Product.VOICE_DESIGN])
def test_cloning_and_design_are_never_zdr_eligible(product: Product) -> None:
    with pytest.raises(NotZdrEligible):
        decide(ZDR, RequestFlags(), product)
    with pytest.raises(NotZdrEligible):
        decide(OPEN, RequestFlags(enable_logging=False), product)
    assert decide(OPEN, RequestFlags(), product).retain is True


def test_uncovered_provider_is_refused_under_zdr_unless_the_admin_allows() -> None:
    route = Route(STREAM_ONLY, Mode.SYNC)
    with pytest.raises(ProviderNotCovered):
        decide(ZDR, RequestFlags(), Product.LLM, route)
    allowed = WorkspaceRetention(
        zdr_enabled=True, plan=Plan.ENTERPRISE, allow_uncovered_providers=True
    )
    decision = decide(allowed, RequestFlags(), Product.LLM, route)
    assert decision.provider_uncovered and not decision.retain


def test_coverage_is_per_mode() -> None:
    assert (
        decide(ZDR, RequestFlags(), Product.LLM, Route(STREAM_ONLY, Mode.STREAMING)).retain is False
    )


def test_undeclared_mode_counts_as_retaining() -> None:
    provider = ProviderInfo("sync-only", {Mode.SYNC: RetentionDeclaration.NONE})
    assert provider.covers(Mode.SYNC) and not provider.covers(Mode.STREAMING)


def test_restricted_workspace_is_refused_zdr_per_request_and_told_why() -> None:
    restricted = WorkspaceRetention(
        zdr_enabled=False,
        plan=Plan.ENTERPRISE,
        restricted=True,
        restricted_reason="flagged for review",
    )
    with pytest.raises(ZdrWithdrawn) as info:
        decide(restricted, RequestFlags(enable_logging=False), Product.TTS)
    assert "flagged for review" in info.value.message


def test_zdr_setting_needs_enterprise_and_no_restriction() -> None:
    check_zdr_setting(WorkspaceRetention(zdr_enabled=False, plan=Plan.ENTERPRISE), True)
    with pytest.raises(ZdrRequiresEnterprise):
        check_zdr_setting(OPEN, True)
    with pytest.raises(ZdrWithdrawn):
        check_zdr_setting(
            WorkspaceRetention(zdr_enabled=False, plan=Plan.ENTERPRISE, restricted=True), True
        )
    check_zdr_setting(OPEN, False)  # turning it off is always allowed


def test_refusals_are_403_with_stable_codes() -> None:
    for cls in (ZdrRequiresEnterprise, ZdrWithdrawn, NotZdrEligible, ProviderNotCovered):
        assert issubclass(cls, RetentionRefused)
        assert cls.status == 403
    assert (
        len(
            {
                c.code
                for c in (ZdrRequiresEnterprise, ZdrWithdrawn, NotZdrEligible, ProviderNotCovered)
            }
        )
        == 4
    )


def test_save_is_refused_under_zero_retention_and_an_opt_in_otherwise() -> None:
    """Cartesia's ``save`` keeps the output as a feature: a retention path. Every workspace,
    flag and product with ``save`` on: refused whenever zero retention applies, else kept."""
    for ws, flags, product in itertools.product(WORKSPACES, FLAGS, list(Product)):
        saving = RequestFlags(
            enable_logging=flags.enable_logging,
            store=flags.store,
            agent_zero_retention=flags.agent_zero_retention,
            save=True,
        )
        zero = _asks_zero_retention(ws, saving)
        try:
            decision = decide(ws, saving, product)
        except SaveRefusedUnderZdr:
            assert zero and ELIGIBILITY[product].zdr_eligible
            continue
        except (ZdrWithdrawn, NotZdrEligible):
            assert zero
            continue
        assert not zero
        assert decision.retain is (flags.store is not False)


def test_save_refusal_is_a_403_with_its_own_code() -> None:
    with pytest.raises(SaveRefusedUnderZdr) as info:
        decide(ZDR, RequestFlags(save=True), Product.TTS)
    assert (info.value.status, info.value.code) == (403, "save_refused_under_zdr")
    decision = decide(OPEN, RequestFlags(save=True), Product.TTS)
    assert (decision.retain, decision.reason) == (True, Reason.REQUEST_OPT_IN)


# Speech providers: every vendor's default declarations, and an operator's agreement ----------

SPEECH_PROVIDERS = [
    *(ProviderInfo(kind, declared) for kind, declared in SPEECH_DEFAULTS.items()),
    ProviderInfo(
        "openai-agreed",
        {Mode.SYNC: RetentionDeclaration.ZDR_BY_AGREEMENT, Mode.STREAMING: _RETAINS},
    ),
]


@pytest.mark.parametrize("product", [Product.STT, Product.TTS])
def test_the_speech_routing_matrix(product: Product) -> None:
    """Provider x mode x workspace ZDR x request flag x agent ZRM x admin allowance: a
    zero-retention request reaches a provider only where its declaration covers the mode, or
    where the admin allowed uncovered providers, and then the decision says so."""
    for provider, mode, zdr, flag, agent, allow in itertools.product(
        SPEECH_PROVIDERS, list(Mode), *[[False, True]] * 4
    ):
        workspace = WorkspaceRetention(
            zdr_enabled=zdr, plan=Plan.ENTERPRISE, allow_uncovered_providers=allow
        )
        flags = RequestFlags(enable_logging=False if flag else None, agent_zero_retention=agent)
        route = Route(provider, mode)
        zero = zdr or flag or agent
        covered = provider.declaration(mode) is not RetentionDeclaration.RETAINS
        if zero and not covered and not allow:
            with pytest.raises(ProviderNotCovered):
                decide(workspace, flags, product, route)
            continue
        decision = decide(workspace, flags, product, route)
        assert decision.zero_retention is zero
        assert decision.provider_uncovered is (zero and not covered)
        assert decision.retain is (not zero)


def test_the_vendors_default_declarations() -> None:
    """As the seeds and the vendors' pages say (the operator may declare otherwise)."""
    covered = {
        kind: tuple(m.value for m in Mode if d[m] != _RETAINS)
        for kind, d in SPEECH_DEFAULTS.items()
    }
    assert covered == {
        "assemblyai": ("streaming",),
        "deepgram": ("sync", "streaming"),
        "groq": ("sync", "streaming"),
        "soniox": ("streaming",),
        "elevenlabs": ("sync", "streaming"),
        "openai": (),
        "cartesia": (),
    }
