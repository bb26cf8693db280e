"""Async file transcription: the request is answered at once, the transcript is fetched later.

:func:`submit` refuses now whatever the transcription itself would refuse (an unknown model, a
mode the model does not serve, a provider the retention policy will not use for this request),
then runs :func:`~sottovoce.services.stt_files.transcribe_file` in the background, in a context
of its own (one more usage record, with the audio seconds, under the request's id). The upload
and the transcript are held by :class:`~sottovoce.services.stt_jobs.TranscriptJobs`, in memory
only. Deleting a transcript that went to history (without zero retention) deletes that item too.
"""

from __future__ import annotations

import dataclasses

import anyio

from sottovoce.errors import SottovoceError
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import routing
from sottovoce.services.context import RequestContext
from sottovoce.services.stt_files import FileAsk, resolve_transcriber, transcribe_file
from sottovoce.services.stt_jobs import Job
from sottovoce.store import history


def hold_upload(ctx: RequestContext, audio: bytes) -> str:
    """Keep an upload in memory for a transcript to come; its id."""
    speech = ctx.settings.speech
    return ctx.services.jobs.add_upload(
        ctx.workspace.id,
        Sensitive(audio),
        speech.async_transcript_ttl_s,
        speech.max_async_transcripts,
    )


def submit(ctx: RequestContext, upload_id: str, ask: FileAsk) -> Job:
    """Decide now (refusals are this request's answer), transcribe in the background."""
    first = resolve_transcriber(ctx, ask.model)
    routing.check_mode(first.info, Mode.SYNC)
    chain = routing.candidates(ctx, first, Mode.SYNC, ctx.engines.transcriber)
    decision, _ = routing.decide(ctx, ask.flags, chain, Mode.SYNC)
    first.check_language(ask.language)
    jobs = ctx.services.jobs
    audio = jobs.take_upload(ctx.workspace.id, upload_id)
    speech = ctx.settings.speech

    async def work(job: Job) -> None:
        # The background work decides again, for itself, with the same flags: its own context.
        child = ctx.child(inherit_decision=False)
        try:
            job.result = await transcribe_file(child, dataclasses.replace(ask, audio=audio))
            job.history_item_id = job.result.history_item_id
        except SottovoceError as exc:
            child.usage.record_error(exc.code, exc.status)
            raise
        finally:
            await child.finish()

    return jobs.submit(
        ctx.workspace.id,
        work,
        zero_retention=decision.zero_retention,
        settings=dict(ask.settings),
        ttl_s=speech.async_transcript_ttl_s,
        limit=speech.max_async_transcripts,
    )


def fetch(ctx: RequestContext, job_id: str) -> Job:
    return ctx.services.jobs.get(ctx.workspace.id, job_id)


def fetched(ctx: RequestContext, job: Job) -> None:
    """The transcript was sent to the client: under zero retention a finished one goes now."""
    ctx.services.jobs.fetched(job)


async def delete(ctx: RequestContext, job_id: str) -> Job:
    job = ctx.services.jobs.remove(ctx.workspace.id, job_id)
    item_id = job.history_item_id
    if item_id is not None:
        await ctx.run_in_session(lambda s: history.delete(s, ctx.workspace.id, item_id))
        await anyio.to_thread.run_sync(ctx.services.store.checkpoint)
    return job


def listed(ctx: RequestContext) -> list[Job]:
    return ctx.services.jobs.listed(ctx.workspace.id)
