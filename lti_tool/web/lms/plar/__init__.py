"""Prior learning assessment and recognition inside the LMS (``/plar``): the learner's
requests (``learner_views``) and the assessors' queue and assessment pages
(``assessor_views``). Thin: the rules live in ``services.plar``."""

from lti_tool.web.lms.plar import assessor_views, learner_views
from lti_tool.web.lms.plar.common import bp

__all__ = ["assessor_views", "bp", "learner_views"]
