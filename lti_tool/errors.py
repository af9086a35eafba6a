"""ToolError hierarchy: every failure a user can meet, with a message that is safe to show.

No Flask request handling here: services raise these, ``web/errors.py`` turns them into an
HTML page (inside the LMS frame) or JSON. Titles and default messages are translatable
(lazy, resolved in the request's language when the error is made); a message passed in is
translated by its raiser (``_()`` at raise time). ``public_message`` is written for the
person in front of the screen; ``log_detail`` may carry more for the operator, but never
tokens, keys or personal data.
"""

from __future__ import annotations

from lti_tool.translate import lazy_gettext as _l


class ConfigurationError(Exception):
    """The tool cannot start: one clear message naming the setting."""


class ToolError(Exception):
    status_code = 400
    code = "tool_error"
    title = _l("Something went wrong")
    public_message = _l("The request could not be completed.")

    def __init__(self, public_message: str | None = None, *, log_detail: str = "",
                 code: str | None = None) -> None:
        # resolved now, in the language of the request that raises it
        self.title = str(self.title)
        self.public_message = str(public_message if public_message is not None
                                  else self.public_message)
        if code is not None:
            self.code = code
        self.log_detail = log_detail
        super().__init__(self.public_message)


class LaunchError(ToolError):
    """A bad LTI login or launch: the launch is refused and nothing is stored."""

    status_code = 400
    code = "launch_rejected"
    title = _l("This launch could not be accepted")


class ReplayedLaunch(LaunchError):
    code = "launch_replayed"
    public_message = _l(
        "This launch has already been used. Launches are single-use: go back to your course "
        "and open the tool again."
    )


class UnknownPlatform(LaunchError):
    code = "unknown_platform"
    status_code = 400


class LaunchSessionError(ToolError):
    status_code = 401
    code = "launch_session_expired"
    title = _l("Your session has ended")
    public_message = _l(
        "Your session with MicroCred has expired or is missing. Open the tool again from your "
        "course."
    )


class Forbidden(ToolError):
    status_code = 403
    code = "forbidden"
    title = _l("Not allowed")
    public_message = _l("Your role in this course does not allow this action.")


class NotFound(ToolError):
    status_code = 404
    code = "not_found"
    title = _l("Not found")
    public_message = _l("That page does not exist.")


class ValidationFailed(ToolError):
    status_code = 422
    code = "validation_failed"
    title = _l("Please correct the highlighted fields")
    public_message = _l("Some fields are not valid.")

    def __init__(self, errors: dict[str, list[str]], public_message: str | None = None) -> None:
        self.errors = errors
        super().__init__(public_message)


class RegistrationFailed(ToolError):
    status_code = 400
    code = "registration_failed"
    title = _l("Registration failed")


class UpstreamError(ToolError):
    """A platform's endpoint (JWKS, token, registration) could not be reached or answered badly."""

    status_code = 502
    code = "upstream_error"
    title = _l("The learning platform did not answer")
    public_message = _l("The learning platform did not answer in time. Please try again.")


class Conflict(ToolError):
    status_code = 409
    code = "conflict"
    title = _l("Conflict")


class ServiceUnavailable(ToolError):
    """A dependency (the database, Redis) is down, frozen or overloaded: answered 503 with
    ``Retry-After``; nothing was changed, and the same request will work once it is back."""

    status_code = 503
    code = "service_unavailable"
    title = _l("MicroCred is briefly unavailable")
    public_message = _l("MicroCred cannot reach one of its services right now, so nothing was "
                        "saved. Please try again in a few seconds.")

    def __init__(self, dependency: str, *, retry_after: int = 5, log_detail: str = "",
                 public_message: str | None = None) -> None:
        self.dependency = dependency
        self.retry_after = retry_after
        super().__init__(public_message, log_detail=log_detail)


class RateLimited(ToolError):
    """Too many requests from one client address or API token (429 with ``Retry-After``)."""

    status_code = 429
    code = "rate_limited"
    title = _l("Too many requests")
    public_message = _l("Too many requests in a short time. Please wait a moment and try "
                        "again.")

    def __init__(self, retry_after: int, public_message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(public_message)
