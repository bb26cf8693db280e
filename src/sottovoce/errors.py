"""The error hierarchy: every error carries an HTTP status and a stable code.

Messages are written by us, never built from request content: a client gets its own field
names back (``fields``), but never the values it sent, and the server log gets only the class
and the code. Never classify an error by its message text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class SottovoceError(Exception):
    """Base of every error the server reports on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "The server could not complete the request."

    def __init__(self, message: str | None = None, *, fields: Sequence[str] = ()) -> None:
        self.message = message or self.default_message
        self.fields = tuple(fields)
        super().__init__(self.message)


# 4xx: the request ------------------------------------------------------------------------


class InvalidRequest(SottovoceError):
    status = 422
    code = "invalid_request"
    default_message = "The request is not valid."


class InvalidJson(SottovoceError):
    status = 400
    code = "invalid_json"
    default_message = "The request body is not valid JSON."


class InvalidAudio(InvalidRequest):
    code = "invalid_audio"
    default_message = "The uploaded file could not be decoded as audio."


class ContextLengthExceeded(SottovoceError):
    status = 400
    code = "context_length_exceeded"
    default_message = "The messages and max_tokens together exceed the model's context window."


class UnsupportedMediaType(SottovoceError):
    status = 415
    code = "unsupported_media_type"
    default_message = "The request body has a content type this endpoint does not accept."


class PayloadTooLarge(SottovoceError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is larger than this server accepts."


class AudioTooLong(PayloadTooLarge):
    code = "audio_too_long"
    default_message = "The audio is longer than this server accepts."


class ChunkTooLarge(PayloadTooLarge):
    code = "chunk_size_exceeded"
    default_message = "A message of this session is larger than this server accepts."


class SessionTimeLimit(AudioTooLong):
    code = "session_time_limit_exceeded"
    default_message = "The session reached its time limit."


class Unauthorized(SottovoceError):
    status = 401
    code = "unauthorized"
    default_message = "A valid API key is required."


class Forbidden(SottovoceError):
    status = 403
    code = "forbidden"
    default_message = "This key may not do that."


class AdminRequired(Forbidden):
    code = "admin_required"
    default_message = "Only an admin key of this workspace may change its settings."


class NotFound(SottovoceError):
    status = 404
    code = "not_found"
    default_message = "No such resource."


class RouteNotFound(NotFound):
    code = "route_not_found"
    default_message = "No such endpoint."


class MethodNotAllowed(SottovoceError):
    status = 405
    code = "method_not_allowed"
    default_message = "This endpoint does not accept that method."


class UnknownModel(SottovoceError):
    status = 404
    code = "model_not_found"
    default_message = "No such model on this server."


class UnknownVoice(SottovoceError):
    status = 404
    code = "voice_not_found"
    default_message = "No such voice on this server."


class Conflict(SottovoceError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class VoiceNotReady(Conflict):
    code = "voice_not_ready"
    default_message = "This voice is still being made; try again when it is ready."


# 403: the retention policy refuses -------------------------------------------------------


class RetentionRefused(SottovoceError):
    """The retention policy will not serve this request as asked."""

    status = 403
    code = "retention_refused"


class ZdrRequiresEnterprise(RetentionRefused):
    code = "zdr_requires_enterprise"
    default_message = "Zero data retention is available on the enterprise plan only."


class ZdrWithdrawn(RetentionRefused):
    code = "zdr_withdrawn"
    default_message = "Zero data retention has been withdrawn for this workspace."


class NotZdrEligible(RetentionRefused):
    code = "not_zdr_eligible"
    default_message = (
        "This product retains its source material and cannot run under zero data retention."
    )


class ProviderNotCovered(RetentionRefused):
    code = "provider_not_covered"
    default_message = (
        "The provider serving this model does not declare zero retention for this mode; "
        "a workspace admin may allow uncovered providers."
    )


class SaveRefusedUnderZdr(RetentionRefused):
    code = "save_refused_under_zdr"
    default_message = (
        "Saving the generated audio is a retention path and is refused under zero data retention."
    )


# 5xx: us or upstream ---------------------------------------------------------------------


class EngineFailed(SottovoceError):
    status = 500
    code = "engine_error"
    default_message = "The engine failed while processing the request."


class EngineUnavailable(SottovoceError):
    status = 503
    code = "engine_unavailable"
    default_message = "The engine for this model is not available."


class UpstreamFailed(SottovoceError):
    status = 502
    code = "upstream_error"
    default_message = "The upstream provider returned an error."


class UpstreamTimeout(SottovoceError):
    status = 504
    code = "upstream_timeout"
    default_message = "The upstream provider did not answer in time."


class RetentionViolation(SottovoceError):
    """A programming error: code tried to persist content the decision does not allow."""

    code = "retention_violation"
    default_message = "The server refused to persist content it may not keep."
