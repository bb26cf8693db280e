"""The database schema: one table per aggregate, portable SQL only (SQLite and PostgreSQL).

Times are integer Unix milliseconds. Content is held, sealed, only by ``history_items.text``,
``.audio`` and ``.details`` (through ``store/history.py``) and by ``voices.meta`` and ``.pack``
and ``voice_samples.file_name`` and ``.audio`` (through ``store/voices.py``).
The usage table has no column that could hold content: identifiers, enums and numbers.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class WorkspaceRow(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(20))
    zdr_enabled: Mapped[bool] = mapped_column(Boolean)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    restricted_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    allow_uncovered_providers: Mapped[bool] = mapped_column(Boolean, default=False)
    keep_input_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    history_retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the key: the key itself is shown once, at creation, and never stored."""
    prefix: Mapped[str] = mapped_column(String(12))
    is_admin: Mapped[bool] = mapped_column(Boolean)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    revoked_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class UsageRow(Base):
    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_workspace_started", "workspace_id", "started_at_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(40))
    # No foreign key: content-free billing records may outlive their workspace.
    workspace_id: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    product: Mapped[str] = mapped_column(String(32))
    model_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    started_at_ms: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(Integer)
    input_units: Mapped[float] = mapped_column(Float, default=0.0)
    input_unit: Mapped[str | None] = mapped_column(String(16), nullable=True)
    output_units: Mapped[float] = mapped_column(Float, default=0.0)
    output_unit: Mapped[str | None] = mapped_column(String(16), nullable=True)
    status_code: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(48), nullable=True)
    content_retained: Mapped[bool] = mapped_column(Boolean)
    zero_retention: Mapped[bool] = mapped_column(Boolean)
    retention_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)


class HistoryRow(Base):
    __tablename__ = "history_items"
    __table_args__ = (Index("ix_history_workspace_created", "workspace_id", "created_at_ms"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    request_id: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))
    model_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    voice_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    voice_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    character_count: Mapped[int] = mapped_column(Integer, default=0)
    content_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    output_format: Mapped[str | None] = mapped_column(String(32), nullable=True)
    settings_json: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # Content: written and read only by store/history.py.
    text: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    audio: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    details: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class AuditLogRow(Base):
    """Append-only: ``store/audit_log.py`` only inserts and the session refuses the rest."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    at_ms: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(40))
    setting: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(String(600), nullable=True)
    new_value: Mapped[str | None] = mapped_column(String(600), nullable=True)


class BillingTotalRow(Base):
    """What a deleted workspace leaves behind, if configured: content-free totals per product."""

    __tablename__ = "billing_totals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    product: Mapped[str] = mapped_column(String(32))
    input_unit: Mapped[str | None] = mapped_column(String(16), nullable=True)
    output_unit: Mapped[str | None] = mapped_column(String(16), nullable=True)
    requests: Mapped[int] = mapped_column(Integer)
    input_units: Mapped[float] = mapped_column(Float)
    output_units: Mapped[float] = mapped_column(Float)
    duration_ms: Mapped[int] = mapped_column(BigInteger)
    closed_at_ms: Mapped[int] = mapped_column(BigInteger)


class VoiceRow(Base):
    """A workspace's designed or matched voice; ``meta`` and ``pack`` are sealed."""

    __tablename__ = "voices"
    __table_args__ = (Index("ix_voices_workspace_created", "workspace_id", "created_at_ms"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(20))
    model_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error_code: Mapped[str | None] = mapped_column(String(48), nullable=True)
    speed: Mapped[float] = mapped_column(Float, default=1.0)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    sample_count: Mapped[int] = mapped_column(Integer, default=0)
    # Content: written and read only by store/voices.py.
    meta: Mapped[bytes] = mapped_column(LargeBinary)
    pack: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class VoiceSampleRow(Base):
    """An uploaded sample of a voice, sealed under the voice's key."""

    __tablename__ = "voice_samples"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    voice_id: Mapped[str] = mapped_column(ForeignKey("voices.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    # Content: written and read only by store/voices.py.
    file_name: Mapped[bytes] = mapped_column(LargeBinary)
    audio: Mapped[bytes] = mapped_column(LargeBinary)


class AgentRow(Base):
    """A voice agent. Its document (name, prompt, first message, tools...) is the customer's
    content and is sealed like a history item; the privacy settings stay readable, as the
    sweeper and the retention policy need them."""

    __tablename__ = "agents"
    __table_args__ = (Index("ix_agents_workspace_id", "workspace_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)
    zero_retention_mode: Mapped[bool] = mapped_column(Boolean)
    record_voice: Mapped[bool] = mapped_column(Boolean)
    retention_days: Mapped[int] = mapped_column(Integer)
    """-1: no limit."""
    delete_audio: Mapped[bool] = mapped_column(Boolean)
    redact_pii: Mapped[bool] = mapped_column(Boolean)
    # Content: written and read only by store/agents.py.
    document: Mapped[bytes] = mapped_column(LargeBinary)


class ConversationRow(Base):
    """A retained conversation's metadata; its transcript and recording are a history item
    (source ``ConvAI``). A conversation under zero retention has no row at all."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_workspace_id", "workspace_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    agent_id: Mapped[str] = mapped_column(String(40), index=True)
    history_item_id: Mapped[str] = mapped_column(String(40))
    started_at_ms: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(Integer)
    message_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    termination_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    has_audio: Mapped[bool] = mapped_column(Boolean)
    expires_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)


class SignedUrlRow(Base):
    """A single-use, short-lived permission to open one agent's conversation socket."""

    __tablename__ = "agent_signed_urls"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 of the signature: the signature itself is only in the URL handed out."""
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(40))
    agent_id: Mapped[str] = mapped_column(String(40))
    expires_at_ms: Mapped[int] = mapped_column(BigInteger)


class ScheduledRunRow(Base):
    """When a periodic task (the retention sweep) last ran: replicas sharing the database claim
    a run here, so it happens once per interval across all of them."""

    __tablename__ = "scheduled_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_run_ms: Mapped[int] = mapped_column(BigInteger)
