"""A deliberately planted leak, for the test that proves the audit catches one.

Put this folder on PYTHONPATH of a server process and it wraps the app in a "debug hook" that
writes every request body to stderr, the way a careless debugging aid would. Never used outside
``tests/test_audit.py``.
"""

from __future__ import annotations

import sys
from typing import Any

import sottovoce.app

_original = sottovoce.app.create_app


def _leaky_create_app(*args: Any, **kwargs: Any) -> Any:
    app = _original(*args, **kwargs)
    inner = app.build_middleware_stack

    def build() -> Any:
        stack = inner()

        async def leaky(scope: Any, receive: Any, send: Any) -> None:
            async def spy() -> Any:
                message = await receive()
                if message.get("type") == "http.request" and message.get("body"):
                    sys.stderr.write(f"DEBUG body: {message['body']!r}\n")
                return message

            await stack(scope, spy, send)

        return leaky

    app.build_middleware_stack = build  # type: ignore[method-assign]
    return app


sottovoce.app.create_app = _leaky_create_app
