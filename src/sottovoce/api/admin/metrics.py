"""Prometheus metrics at ``/metrics``: every label comes from a fixed set, never from a request.

Labels: the product (an enum), the route *template* (from our own code; ``unmatched`` when no
route matched), the method (from a fixed list, else ``other``), the status class, the outcome
and the kind of work under admission control (an enum). No label can carry text a client sent.

Capacity is read when scraped: work running per kind and this replica's limits, the local
Whisper workers, how long they have been busy, and how far behind their work is (the longest a
decode has waited for a worker or a live session for its commit: what admission control reads
to refuse new live transcriptions while the admitted ones are behind).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from sottovoce.engines.workers import WorkerPool
from sottovoce.services.admission import Admission, Kind

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "WS"})
OUTCOMES = frozenset({"ok", "error", "cancelled"})


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("product", "route", "method", "status", "outcome")
        self.requests = Counter(
            "sottovoce_requests", "Requests handled", labels, registry=self.registry
        )
        self.duration = Histogram(
            "sottovoce_request_duration_seconds",
            "Time from request to the end of its response",
            ("product", "route"),
            registry=self.registry,
        )
        self.units = Counter(
            "sottovoce_usage_units",
            "Billed units (characters, audio seconds, tokens)",
            ("product", "unit", "direction"),
            registry=self.registry,
        )

        self.running = Gauge(
            "sottovoce_admitted", "Work running now, by kind", ("kind",), registry=self.registry
        )
        self.limit = Gauge(
            "sottovoce_admission_limit",
            "This replica's limit of work running at once, by kind (absent: none)",
            ("kind",),
            registry=self.registry,
        )
        self.backlog = Gauge(
            "sottovoce_local_stt_backlog_seconds",
            "How far behind the local Whisper work is: the longest a decode has waited for a "
            "worker, or a live session for its commit",
            registry=self.registry,
        )
        self.workers = Gauge(
            "sottovoce_local_stt_workers", "Local Whisper decode workers", registry=self.registry
        )
        self.busy = Gauge(
            "sottovoce_local_stt_busy_seconds",
            "Seconds the local Whisper workers have spent decoding since start, all together",
            registry=self.registry,
        )

    def capacity(
        self, admission: Admission | None, backlog_s: float, pools: list[WorkerPool]
    ) -> None:
        """Read the capacity gauges now."""
        self.backlog.set(backlog_s)
        self.workers.set(sum(p.size for p in pools))
        self.busy.set(sum(p.busy_s for p in pools))
        if admission is None:
            return
        for kind in Kind:
            self.running.labels(kind=kind.value).set(admission.running(kind))
            limit = admission.replica.get(kind)
            if limit is not None:
                self.limit.labels(kind=kind.value).set(limit)

    def observe(
        self,
        *,
        product: str | None,
        route: str | None,
        method: str,
        status: int,
        outcome: str,
        seconds: float,
        units: tuple[tuple[str | None, float, str], ...] = (),
    ) -> None:
        product_label = product or "none"
        route_label = route or "unmatched"
        self.requests.labels(
            product=product_label,
            route=route_label,
            method=method if method in METHODS else "other",
            status=f"{status // 100}xx",
            outcome=outcome if outcome in OUTCOMES else "other",
        ).inc()
        self.duration.labels(product=product_label, route=route_label).observe(seconds)
        for unit, amount, direction in units:
            if unit is not None and amount:
                self.units.labels(product=product_label, unit=unit, direction=direction).inc(amount)


router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    collected: Metrics = request.app.state.metrics
    engines = request.app.state.services.engines
    admission = getattr(request.app.state, "admission", None)
    collected.capacity(admission, engines.backlog_s(), engines.worker_pools())
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)
