"""Audit probes for the AssemblyAI surface (filled in below)."""

from __future__ import annotations

from sottovoce.audit.probe import Probe

PROBES: tuple[Probe, ...] = ()
