"""`make run`: the single-process demo with the sandbox LMS."""

SANDBOX_ENABLED = True
ALLOW_HTTP_ISSUERS = True
LOG_FORMAT = "text"
LOG_LEVEL = "INFO"
