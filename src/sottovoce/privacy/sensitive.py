"""``Sensitive[T]``: request content that can be carried around but not shown.

Text, audio, prompts, completions and transcripts are wrapped from the moment they are parsed.
Every way Python turns an object into text (``str``, ``repr``, f-strings, ``%``, ``format``)
shows only ``<sensitive: N chars>``; pickling, copying through pickle and JSON encoding refuse.
The value comes out only through :meth:`Sensitive.reveal`, at the engine call and the response
writer, so a grep for ``reveal(`` lists every place content is touched.
"""

from __future__ import annotations

from typing import Any, Generic, NoReturn, TypeVar, cast

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

T = TypeVar("T")


def _describe(value: object) -> str:
    if isinstance(value, str):
        return f"{len(value)} chars"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"{len(value)} bytes"
    size = getattr(value, "nbytes", None)
    if isinstance(size, int):
        return f"{size} bytes"
    if isinstance(value, list | tuple | dict):
        return f"{len(value)} items"
    return type(value).__name__


class Sensitive(Generic[T]):
    """A wrapper whose text forms never contain the wrapped value."""

    __slots__ = ("_value",)
    _value: T

    def __init__(self, value: T) -> None:
        object.__setattr__(self, "_value", value)

    def reveal(self) -> T:
        """The wrapped value. Call this only where the content is used, never to log it."""
        return self._value

    def map(self, fn: Any) -> Sensitive[Any]:
        """A new ``Sensitive`` holding ``fn(value)``: transform content without revealing it."""
        return Sensitive(fn(self._value))

    @property
    def size(self) -> int:
        """Length of the value (characters, bytes or items): metadata, safe to log."""
        try:
            return len(cast(Any, self._value))
        except TypeError:
            return 0

    def __str__(self) -> str:
        return f"<sensitive: {_describe(self._value)}>"

    __repr__ = __str__

    def __format__(self, format_spec: str) -> str:
        return str(self)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Sensitive values are immutable")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("Sensitive values cannot be pickled or copied")

    def __getstate__(self) -> NoReturn:
        raise TypeError("Sensitive values cannot be pickled or copied")

    def __eq__(self, other: object) -> bool:
        # Equality in constant shape: comparing two wrappers is fine, comparing to a bare value
        # is almost always a bug that would make the value guessable.
        if isinstance(other, Sensitive):
            return bool(self._value == other._value)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Let request models declare ``text: Sensitive[str]``: validated, then wrapped.

        Serialisation refuses, so a model holding content cannot be dumped to JSON by accident.
        """
        args = getattr(source, "__args__", None)
        inner = handler.generate_schema(args[0]) if args else core_schema.any_schema()

        def wrap(value: Any) -> Sensitive[Any]:
            return value if isinstance(value, Sensitive) else Sensitive(value)

        def refuse(value: Any) -> NoReturn:
            raise TypeError("Sensitive values cannot be serialised")

        return core_schema.no_info_after_validator_function(
            wrap,
            inner,
            serialization=core_schema.plain_serializer_function_ser_schema(refuse),
        )
