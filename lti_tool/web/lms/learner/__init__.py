"""The learner's pages inside the LMS frame (blueprint ``learner``, ``/me``): their skills
and credentials (``pages``) and what they can do with an earned credential (``actions``)."""

from lti_tool.web.lms.learner.pages import bp, credential_of_issuer, render_home

__all__ = ["bp", "credential_of_issuer", "render_home"]
