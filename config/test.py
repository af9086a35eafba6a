"""The test suite: real Redis and a real database (SQLite or PostgreSQL via DATABASE_URL)."""

SANDBOX_ENABLED = True
ALLOW_HTTP_ISSUERS = True
SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 - test profile only
REDIS_URL = "redis://127.0.0.1:6379/15"
PUBLIC_BASE_URL = "http://tool.test"
LOG_FORMAT = "json"
LOG_LEVEL = "WARNING"
JOBS_INLINE = True  # background jobs run in the test process, against the test database
# /verify never fetches other institutions' documents in tests (a test turns it on to check
# that the lookup goes through the network guard)
VERIFY_FETCH_ISSUER_DOCUMENTS = False
# Generous limits: the suite launches many times from one address; the rate-limit tests
# set their own.
RATE_LIMIT_LOGIN = RATE_LIMIT_API = RATE_LIMIT_VERIFY = RATE_LIMIT_REGISTER = "10000 per minute"
