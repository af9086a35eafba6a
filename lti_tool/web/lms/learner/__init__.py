"""The learner's pages inside the LMS frame (blueprint ``learner``, ``/me``): their skills
and credentials (``pages``), what they can do with an earned credential (``actions``), and
recognition of credentials from other institutions (``transfer``)."""

from lti_tool.web.lms.learner import transfer  # noqa: F401 - importing registers the routes
from lti_tool.web.lms.learner.pages import bp, credential_of_issuer, render_home

__all__ = ["bp", "credential_of_issuer", "render_home"]
