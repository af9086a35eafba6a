"""The app's request class: a body sent without ``Content-Length`` (chunked transfer
encoding) that is larger than the route's limit is refused with 413, like one whose
``Content-Length`` says so.

Werkzeug reads such a body through a stream capped at ``max_content_length`` and, when the
body is exactly that long or longer, simply stops there: the view would see a truncated
body (an API client got "422: not valid JSON" instead of 413). Here the stream is allowed
one byte more than the limit, and reading that byte raises ``RequestEntityTooLarge``.
"""

from __future__ import annotations

import typing as t

from flask import Request as FlaskRequest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wrappers.request import Request as WerkzeugRequest
from werkzeug.wsgi import LimitedStream, get_content_length


class _CappedStream(LimitedStream):
    def __init__(self, stream: t.IO[bytes], max_length: int) -> None:
        super().__init__(stream, max_length + 1, is_max=True)
        self.max_length = max_length

    def readinto(self, b: t.Any) -> int | None:
        count = super().readinto(b)
        if self.tell() > self.max_length:
            raise RequestEntityTooLarge()
        return count


#: Werkzeug's own ``stream`` (a cached property): used for every other request.
_WERKZEUG_STREAM: t.Any = vars(WerkzeugRequest)["stream"]


class Request(FlaskRequest):
    @cached_property
    def stream(self) -> t.IO[bytes]:
        limit = self.max_content_length
        if limit is not None and get_content_length(self.environ) is None and \
                self.environ.get("wsgi.input_terminated") and not self.shallow:
            return t.cast(t.IO[bytes],
                          _CappedStream(t.cast(t.IO[bytes], self.environ["wsgi.input"]), limit))
        return t.cast(t.IO[bytes], _WERKZEUG_STREAM.fget(self))
