"""ElevenLabs' agent document: ``conversation_config`` and ``platform_settings``, read into the
vendor-free :class:`~sottovoce.services.agent_spec.AgentSpec` a conversation runs on.

The document is kept as the client sent it (with our defaults filled in), sealed in the store;
this module reads it. What it understands:

- ``agent``: ``first_message``, ``language``, ``prompt.prompt``, ``prompt.llm`` (a model id of
  this server, or one of ElevenLabs' own LLM names, which mean the local default), ``prompt.
  temperature`` (default 0: greedy), ``prompt.max_tokens``, ``prompt.tools`` (``client`` tools,
  and the ``system`` tool ``end_call``), ``prompt.built_in_tools.end_call``,
  ``dynamic_variables.dynamic_variable_placeholders`` (defaults for ``{{name}}``);
- ``tts``: ``voice_id``, ``model_id``, ``agent_output_audio_format``; ``asr``:
  ``user_input_audio_format``; ``turn``: ``turn_timeout``, ``silence_end_call_timeout``;
  ``conversation``: ``max_duration_seconds``, ``text_only``;
- ``platform_settings.privacy``: ``zero_retention_mode``, ``record_voice``, ``retention_days``,
  ``delete_audio``, ``delete_transcript_and_pii``, ``conversation_history_redaction.enabled``,
  ``apply_to_existing_conversations``.

A conversation may override ``agent.first_message``, ``agent.prompt.prompt``,
``agent.language``, ``tts.voice_id`` and ``conversation.text_only``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sottovoce.api.elevenlabs.aliases import ALIASES
from sottovoce.audio.formats import Codec, OutputFormat
from sottovoce.audio.pcm import PcmEncoding
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.agent_spec import END_CALL, AgentSpec, ClientTool
from sottovoce.store.agents import DEFAULT_RETENTION_DAYS, AgentPrivacy

AUDIO_FORMATS = {
    "pcm_8000": 8000,
    "pcm_16000": 16000,
    "pcm_22050": 22050,
    "pcm_24000": 24000,
    "pcm_44100": 44100,
    "pcm_48000": 48000,
    "ulaw_8000": 8000,
}
ELEVENLABS_LLMS = ("gpt-", "gemini-", "claude-", "qwen", "glm-", "grok-", "custom-llm")
"""ElevenLabs' LLM names: served by this server's default model."""
MAX_TOOLS = 20

Doc = Mapping[str, Any]


def _section(doc: Doc, *path: str) -> Doc:
    node: Any = doc
    for name in path:
        node = node.get(name) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def _number(value: Any, field: str, low: float, high: float, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidRequest(f"{field} must be a number from {low:g} to {high:g}.", fields=(field,))
    return float(value)


def _text(value: Any, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidRequest(
            f"{field} must be text of at most {limit} characters.", fields=(field,)
        )
    return value


def llm_of(doc: Doc) -> str | None:
    """The registry id of the agent's LLM (``None``: the default)."""
    llm = _section(doc, "conversation_config", "agent", "prompt").get("llm")
    if llm is None or llm == "":
        return None
    if not isinstance(llm, str) or len(llm) > 200:
        raise InvalidRequest(
            "llm must be a model id.", fields=("conversation_config.agent.prompt.llm",)
        )
    return None if llm.startswith(ELEVENLABS_LLMS) else llm


def privacy_of(doc: Doc) -> AgentPrivacy:
    p = _section(doc, "platform_settings", "privacy")
    redaction = _section(p, "conversation_history_redaction")
    days = _number(p.get("retention_days"), "retention_days", -1, 36_500, DEFAULT_RETENTION_DAYS)
    if days != -1 and days < 0:
        raise InvalidRequest(
            "retention_days must be -1 or a number of days.", fields=("retention_days",)
        )
    return AgentPrivacy(
        zero_retention_mode=p.get("zero_retention_mode") is True,
        record_voice=p.get("record_voice") is True,
        retention_days=int(days),
        delete_audio=p.get("delete_audio") is True,
        redact_pii=p.get("delete_transcript_and_pii") is True or redaction.get("enabled") is True,
    )


def _tools(prompt: Doc) -> tuple[tuple[ClientTool, ...], bool]:
    raw = prompt.get("tools") or []
    if not isinstance(raw, list) or len(raw) > MAX_TOOLS:
        raise InvalidRequest(f"tools must be a list of at most {MAX_TOOLS}.", fields=("tools",))
    tools: list[ClientTool] = []
    end_call = isinstance(_section(prompt, "built_in_tools").get(END_CALL), Mapping)
    for tool in raw:
        if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
            raise InvalidRequest("Each tool needs a name.", fields=("tools",))
        if tool.get("type") == "system":
            end_call = end_call or tool["name"] == END_CALL
            continue
        params = tool.get("parameters") or {}
        tools.append(
            ClientTool(
                name=_text(tool["name"], "tools.name", 64),
                description=_text(tool.get("description"), "tools.description", 2000),
                parameters=params if isinstance(params, Mapping) else {},
                expects_response=tool.get("expects_response") is not False,
                response_timeout_s=_number(
                    tool.get("response_timeout_secs"), "tools.response_timeout_secs", 1, 120, 20
                ),
            )
        )
    return tuple(tools), end_call


def _audio_format(name: Any, field: str) -> tuple[str, int]:
    name = name or "pcm_16000"
    if name not in AUDIO_FORMATS:
        raise InvalidRequest(f"{field} is not a supported audio format.", fields=(field,))
    return name, AUDIO_FORMATS[name]


def output_format(doc: Doc) -> OutputFormat:
    name, rate = _audio_format(
        _section(doc, "conversation_config", "tts").get("agent_output_audio_format"),
        "agent_output_audio_format",
    )
    codec = Codec.MULAW if name.startswith("ulaw") else Codec.PCM_S16LE
    return OutputFormat(codec, rate, name=name)


def validate(doc: Doc, max_prompt_chars: int) -> None:
    """Refuse a document a conversation could not run on (before it is stored)."""
    spec(doc, AgentPrivacy(), max_prompt_chars)
    llm_of(doc)
    privacy_of(doc)


def spec(
    doc: Doc,
    privacy: AgentPrivacy,
    max_prompt_chars: int,
    *,
    agent_id: str | None = None,
    overrides: Doc | None = None,
    variables: Mapping[str, Any] | None = None,
    max_duration_s: float = 3600.0,
    end_of_turn_silence_s: float = 0.5,
) -> AgentSpec:
    config = _section(doc, "conversation_config")
    over = overrides or {}
    agent = {**_section(config, "agent"), **_section(over, "agent")}
    prompt = {**_section(config, "agent", "prompt"), **_section(over, "agent", "prompt")}
    tts = {**_section(config, "tts"), **_section(over, "tts")}
    conversation = {**_section(config, "conversation"), **_section(over, "conversation")}
    turn = _section(config, "turn")
    tools, end_call = _tools(prompt)
    defaults = _section(agent, "dynamic_variables", "dynamic_variable_placeholders")
    values = {str(k): str(v) for k, v in {**defaults, **(variables or {})}.items()}
    input_name, input_rate = _audio_format(
        _section(config, "asr").get("user_input_audio_format"), "user_input_audio_format"
    )
    text_only = conversation.get("text_only") is True
    timeout = _number(turn.get("turn_timeout"), "turn_timeout", -1, 300, 7)
    silence = _number(
        turn.get("silence_end_call_timeout"), "silence_end_call_timeout", -1, 7200, -1
    )
    duration = _number(
        conversation.get("max_duration_seconds"), "max_duration_seconds", 1, max_duration_s, 600
    )
    max_tokens = int(_number(prompt.get("max_tokens"), "max_tokens", -1, 4096, 200))
    return AgentSpec(
        prompt=Sensitive(_text(prompt.get("prompt"), "prompt", max_prompt_chars)),
        first_message=Sensitive(_text(agent.get("first_message"), "first_message", 5000)),
        language=_text(agent.get("language"), "language", 16) or "en",
        llm=llm_of(doc),
        temperature=_number(prompt.get("temperature"), "temperature", 0, 2, 0),
        max_tokens=max_tokens if max_tokens > 0 else 200,
        voice_id=ALIASES.voice(_text(tts.get("voice_id"), "voice_id", 100) or None),
        tts_model=ALIASES.tts_model(_text(tts.get("model_id"), "tts.model_id", 100) or None),
        tools=tools,
        end_call=end_call,
        turn_timeout_s=timeout,
        silence_end_call_s=silence,
        max_duration_s=duration,
        text_only=text_only,
        input_rate=input_rate,
        input_encoding=PcmEncoding.MULAW if input_name.startswith("ulaw") else PcmEncoding.S16LE,
        output=None if text_only else output_format(doc),
        end_of_turn_silence_s=end_of_turn_silence_s,
        privacy=privacy,
        agent_id=agent_id,
        dynamic_variables=Sensitive(values),
    )
