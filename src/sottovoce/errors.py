"""The error hierarchy: every error carries an HTTP status and a stable code.

Messages are written by us, never built from request content: a client gets its own field
names back (``fields``), but never the values it sent, and the server log gets only the class
and the code. Never classify an error by its message text; a surface that writes errors in its
own vocabulary (a socket's message type, a gRPC code) maps them by class.

    SottovoceError                      500 internal_error
    ├── InvalidRequest                  422 invalid_request
    │   ├── InvalidAudio                422 invalid_audio
    │   └── UnexpectedBinaryFrame       422 unexpected_binary_frame
    ├── InvalidJson                     400 invalid_json
    ├── ContextLengthExceeded           400 context_length_exceeded
    ├── UnsupportedMediaType            415 unsupported_media_type
    ├── PayloadTooLarge                 413 payload_too_large
    │   ├── AudioTooLong                413 audio_too_long
    │   │   └── SessionTimeLimit        413 session_time_limit_exceeded
    │   ├── ChunkTooLarge               413 chunk_size_exceeded
    │   └── MessageTooLarge             413 message_too_large
    ├── Unauthorized                    401 unauthorized
    │   ├── WorkspaceGone               401 workspace_deleted (deleted while its request ran)
    │   └── SessionRevoked              401 session_revoked (a socket's key or workspace changed)
    ├── Forbidden                       403 forbidden
    │   └── AdminRequired               403 admin_required
    ├── NotFound                        404 not_found
    │   └── RouteNotFound               404 route_not_found
    ├── UnknownModel                    404 model_not_found
    ├── UnknownVoice                    404 voice_not_found
    ├── MethodNotAllowed                405 method_not_allowed
    ├── Conflict                        409 conflict
    │   └── VoiceNotReady               409 voice_not_ready
    ├── InactivityTimeout               408 inactivity_timeout
    ├── BodyTimeout                     408 request_timeout (a body that did not arrive)
    ├── TooManyContexts                 429 too_many_contexts
    ├── TooBusy                         429 too_many_concurrent_requests (Retry-After)
    ├── RetentionRefused                403 retention_refused (the policy will not serve it)
    │   ├── ZdrRequiresEnterprise       403 zdr_requires_enterprise
    │   ├── ZdrWithdrawn                403 zdr_withdrawn
    │   ├── NotZdrEligible              403 not_zdr_eligible
    │   ├── ProviderNotCovered          403 provider_not_covered
    │   └── SaveRefusedUnderZdr         403 save_refused_under_zdr
    ├── EngineFailed                    500 engine_error
    ├── EngineUnavailable               503 engine_unavailable
    ├── ServerDraining                  503 server_draining (shutting down; Retry-After)
    ├── UpstreamFailed                  502 upstream_error
    ├── UpstreamTimeout                 504 upstream_timeout
    └── RetentionViolation              500 retention_violation (a bug, refused loudly)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class SottovoceError(Exception):
    """Base of every error the server reports on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "The server could not complete the request."
    retry_after_s: ClassVar[int | None] = None
    """Sent as ``Retry-After`` with the error: the caller may try again this much later."""

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


class MessageTooLarge(PayloadTooLarge):
    code = "message_too_large"
    default_message = "A socket message is larger than this server accepts."


class UnexpectedBinaryFrame(InvalidRequest):
    code = "unexpected_binary_frame"
    default_message = "This socket takes JSON text messages, not binary frames."


class InactivityTimeout(SottovoceError):
    status = 408
    code = "inactivity_timeout"
    default_message = "The socket received no message within its inactivity timeout."


class BodyTimeout(SottovoceError):
    """A request's body stopped arriving, or took too long in all (a slow client)."""

    status = 408
    code = "request_timeout"
    default_message = "The request body did not arrive in time."


class TooManyContexts(SottovoceError):
    status = 429
    code = "too_many_contexts"
    default_message = "This socket already has as many open contexts as it may."


class TooBusy(SottovoceError):
    """A concurrency limit (this replica's, or the workspace's) is reached: refused at once,
    never queued. The caller may retry after ``Retry-After`` seconds."""

    status = 429
    code = "too_many_concurrent_requests"
    default_message = "Too many concurrent requests; retry shortly."
    retry_after_s = 1


class SessionTimeLimit(AudioTooLong):
    code = "session_time_limit_exceeded"
    default_message = "The session reached its time limit."


class Unauthorized(SottovoceError):
    status = 401
    code = "unauthorized"
    default_message = "A valid API key is required."


class WorkspaceGone(Unauthorized):
    code = "workspace_deleted"
    default_message = "The workspace was deleted."


class SessionRevoked(Unauthorized):
    """An open session's key was revoked, or its workspace deleted, restricted or its retention
    settings changed: the session is closed (the client may reconnect with a valid key)."""

    code = "session_revoked"
    default_message = "The session's key or workspace changed; the session was closed."


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


class ServerDraining(SottovoceError):
    """The server is shutting down: new work is refused, and sockets still open when its grace
    period ends are closed as "going away" (1001). Another replica will serve a retry."""

    status = 503
    code = "server_draining"
    default_message = "The server is shutting down; retry the request."
    retry_after_s = 1


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
