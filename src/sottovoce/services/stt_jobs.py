"""Transcripts made in the background and fetched later (AssemblyAI's async API), in memory only.

An upload and the transcript made of it live in this process's memory and nowhere else: never
in the database, never on disk, and they are lost when the server restarts. Each is kept for
``speech.async_transcript_ttl_s`` at most, and a workspace holds at most
``speech.max_async_transcripts`` of each. An upload is consumed by the transcript made of it.
A transcript under zero retention is dropped as soon as it has been fetched once it is done
(or failed); any transcript goes when it is deleted or its time is up. Without zero retention
the transcript also goes to history, as every transcription does, and deleting it deletes that
history item too.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sottovoce.errors import Conflict, EngineFailed, NotFound, SottovoceError, TooManyContexts
from sottovoce.privacy.logging import error_fields, log_event
from sottovoce.privacy.sensitive import Sensitive

log = logging.getLogger("sottovoce.stt")


class JobStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    ERROR = "error"


@dataclass
class Upload:
    workspace_id: str
    data: Sensitive[bytes]
    expires: float


@dataclass
class Job:
    id: str
    workspace_id: str
    zero_retention: bool
    expires: float
    settings: dict[str, Any] = field(default_factory=dict)
    """What the client asked for (no content), echoed in the transcript."""
    status: JobStatus = JobStatus.QUEUED
    result: Any = None
    """The product's result once completed (content: held here only)."""
    error: SottovoceError | None = None
    history_item_id: str | None = None
    created: float = field(default_factory=time.time)
    """When it was submitted (seconds since the epoch)."""

    @property
    def done(self) -> bool:
        return self.status in (JobStatus.COMPLETED, JobStatus.ERROR)


class TranscriptJobs:
    """The uploads and background transcripts of one server."""

    def __init__(self) -> None:
        self._uploads: dict[str, Upload] = {}
        self._jobs: dict[str, Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, u in self._uploads.items() if u.expires <= now]:
            del self._uploads[key]
        for key in [k for k, j in self._jobs.items() if j.expires <= now]:
            del self._jobs[key]

    def _room(self, held: int, limit: int) -> None:
        if held >= limit:
            raise TooManyContexts(
                "This workspace holds as many uploads or transcripts in memory as it may."
            )

    # Uploads -----------------------------------------------------------------------------

    def add_upload(
        self, workspace_id: str, data: Sensitive[bytes], ttl_s: float, limit: int
    ) -> str:
        self._sweep()
        self._room(sum(u.workspace_id == workspace_id for u in self._uploads.values()), limit)
        upload_id = uuid.uuid4().hex
        self._uploads[upload_id] = Upload(workspace_id, data, time.monotonic() + ttl_s)
        return upload_id

    def take_upload(self, workspace_id: str, upload_id: str) -> Sensitive[bytes]:
        """The upload's audio, removed from memory (404 if it is not this workspace's)."""
        self._sweep()
        upload = self._uploads.get(upload_id)
        if upload is None or upload.workspace_id != workspace_id:
            raise NotFound("No such upload (it may have expired or been used).")
        del self._uploads[upload_id]
        return upload.data

    # Transcripts -------------------------------------------------------------------------

    def submit(
        self,
        workspace_id: str,
        work: Callable[[Job], Awaitable[None]],
        *,
        zero_retention: bool,
        settings: dict[str, Any],
        ttl_s: float,
        limit: int,
    ) -> Job:
        """A new job, its work started in the background (``work`` fills in the job)."""
        self._sweep()
        self._room(sum(j.workspace_id == workspace_id for j in self._jobs.values()), limit)
        job = Job(
            id=uuid.uuid4().hex,
            workspace_id=workspace_id,
            zero_retention=zero_retention,
            expires=time.monotonic() + ttl_s,
            settings=settings,
        )
        self._jobs[job.id] = job

        async def run() -> None:
            job.status = JobStatus.PROCESSING
            try:
                await work(job)
                job.status = JobStatus.COMPLETED
            except SottovoceError as exc:
                job.error, job.status = exc, JobStatus.ERROR
            except Exception as exc:  # a bug: the job fails, and says no more than that
                log_event(log, "stt_job_failed", logging.ERROR, **error_fields(exc))
                job.error, job.status = EngineFailed(), JobStatus.ERROR

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def get(self, workspace_id: str, job_id: str) -> Job:
        self._sweep()
        job = self._jobs.get(job_id)
        if job is None or job.workspace_id != workspace_id:
            raise NotFound("No such transcript (it may have expired, been fetched or deleted).")
        return job

    def fetched(self, job: Job) -> None:
        """The client has read the job: under zero retention a finished one goes now."""
        if job.zero_retention and job.done:
            self._jobs.pop(job.id, None)

    def remove(self, workspace_id: str, job_id: str) -> Job:
        """Delete a finished job (409 while it is still being made)."""
        job = self.get(workspace_id, job_id)
        if not job.done:
            raise Conflict("The transcript is still being made; delete it once it is done.")
        del self._jobs[job_id]
        return job

    def listed(self, workspace_id: str) -> list[Job]:
        self._sweep()
        return [j for j in self._jobs.values() if j.workspace_id == workspace_id]
