"""Multipart form uploads parsed entirely in memory.

Starlette's ``request.form()`` stores each uploaded file in a ``SpooledTemporaryFile`` that
rolls over to the temporary directory past 1 MB: an uploaded recording would land on disk.
This parser drives the same streaming ``python-multipart`` state machine but appends file parts
to a ``bytearray``, enforces a per-file limit as the bytes arrive (413 before the rest is read),
and hands the file out as ``Sensitive[bytes]``. Field values stay in memory as text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from sottovoce.api import params
from sottovoce.config import Settings
from sottovoce.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from sottovoce.privacy.sensitive import Sensitive

MAX_FIELDS = 100
MAX_FIELD_BYTES = 64 * 1024


@dataclass(frozen=True)
class UploadedFile:
    field_name: str
    filename: str | None
    content_type: str | None
    data: Sensitive[bytes]


@dataclass
class MemoryForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[UploadedFile]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[-1] if values else None

    def get_all(self, name: str) -> list[str]:
        return list(self.fields.get(name, ()))

    def file(self, name: str) -> UploadedFile | None:
        files = self.files.get(name)
        return files[0] if files else None

    def require_file(self, name: str = "file") -> UploadedFile:
        upload = self.file(name)
        if upload is None:
            raise InvalidRequest(f"The form has no '{name}' file.", fields=[name])
        return upload

    def flag(self, name: str, default: bool) -> bool:
        """A true/false field (``"null"`` and empty mean: not sent)."""
        value = params.flag(self.get(name), name)
        return default if value is None else value

    def number(self, name: str, low: float, high: float) -> float | None:
        """A number field within bounds, or ``None`` when not sent."""
        return params.number(self.get(name), name, low, high)


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    content_type: str | None = None
    is_file: bool = False
    data: bytearray = field(default_factory=bytearray)


class _Collector:
    """python-multipart callbacks that build a :class:`MemoryForm`."""

    def __init__(self, max_file_bytes: int) -> None:
        self.max_file_bytes = max_file_bytes
        self.form = MemoryForm()
        self.part = _Part()
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.disposition = b""
        self.count = 0

    def on_part_begin(self) -> None:
        self.part = _Part()
        self.disposition = b""
        self.count += 1
        if self.count > MAX_FIELDS:
            raise InvalidRequest(f"The form has more than {MAX_FIELDS} parts.")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        name = bytes(self.header_name).lower()
        if name == b"content-disposition":
            self.disposition = bytes(self.header_value)
        elif name == b"content-type":
            self.part.content_type = bytes(self.header_value).decode("latin-1").strip()
        self.header_name.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        if b"name" not in options:
            raise InvalidRequest("A form part has no name.")
        self.part.name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            self.part.is_file = True
            self.part.filename = options[b"filename"].decode("utf-8", "replace")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.part.data += data[start:end]
        if self.part.is_file:
            if len(self.part.data) > self.max_file_bytes:
                raise PayloadTooLarge(
                    f"The uploaded file is larger than {self.max_file_bytes} bytes.",
                    fields=[self.part.name],
                )
        elif len(self.part.data) > MAX_FIELD_BYTES:
            raise PayloadTooLarge("A form field is too long.", fields=[self.part.name])

    def on_part_end(self) -> None:
        part = self.part
        if part.is_file:
            upload = UploadedFile(
                field_name=part.name,
                filename=part.filename,
                content_type=part.content_type,
                data=Sensitive(bytes(part.data)),
            )
            self.form.files.setdefault(part.name, []).append(upload)
        else:
            try:
                value = part.data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidRequest("A form field is not UTF-8.", fields=[part.name]) from exc
            self.form.fields.setdefault(part.name, []).append(value)
        # Drop our reference to the bytes now that they are owned by the form.
        self.part = _Part()


async def read_form(
    content_type: str | None, body: AsyncIterator[bytes], *, max_file_bytes: int
) -> MemoryForm:
    """Parse a ``multipart/form-data`` body as it streams in, without touching the disk."""
    kind, params = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        raise UnsupportedMediaType("This endpoint takes a multipart/form-data upload.")
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidRequest("The multipart body has no boundary.")
    collector = _Collector(max_file_bytes)
    callbacks = {
        name: getattr(collector, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        # python-multipart's messages can quote the body: say only that it is malformed.
        raise InvalidRequest("The multipart body is malformed.") from exc
    return collector.form


async def read_upload(request: Request, settings: Settings) -> MemoryForm:
    """The request's multipart upload, in memory, within the server's upload limits."""
    limit = min(settings.stt.max_upload_bytes, settings.limits.max_body_bytes)
    return await read_form(
        request.headers.get("content-type"), request.stream(), max_file_bytes=limit
    )
