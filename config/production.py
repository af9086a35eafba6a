"""Production: every secret and URL comes from the environment; see docs/operations.md."""

SANDBOX_ENABLED = False
ALLOW_HTTP_ISSUERS = False
LOG_FORMAT = "json"
HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600  # browsers keep to https for a year
