"""The instructor's side of a course inside the LMS frame (blueprint ``instructor``,
``/course``): the dashboard, offerings (attach / detach catalog credentials, the course
kind), the assessment grid (learners by skills), recording a demonstration (one learner or
many), the history of a learner's records for a skill with corrections, awards (flags,
revocation), evidence files, CSV exports and the CSV import of demonstrations.

Who may do what: instructors and administrators everything in their course; teaching
assistants read everything and record/correct demonstrations, but cannot attach/detach
offerings, set the course kind or decide on awards; learners get 403 on every route.

The course is always the *launch's* context (``current.record["context_pk"]``); learner and
skill ids from a URL or form are accepted only if the learner is on this course's roster and
the skill belongs to a credential offered here (otherwise 404, nothing changed). Every POST
checks the launch's CSRF token. Thin: every change goes through ``services.tracking`` /
``services.evidence`` / ``services.demonstration_import``; success redirects (303) and the
status message is kept server-side (Redis, per launch) so no user text is reflected from a
URL.

One blueprint, one module per concern: ``course`` (the launch's course, access rules and
what every page shares), ``learners``, ``dashboard``, ``offerings``, ``grid``,
``recording``, ``awards``, ``evidence``, ``spreadsheets`` (CSV exports and import).
"""

from lti_tool.web.lms.instructor import (  # noqa: F401 - importing registers the routes
    awards,
    dashboard,
    evidence,
    grid,
    offerings,
    one_learner,
    recording,
    spreadsheets,
)
from lti_tool.web.lms.instructor.course import bp
from lti_tool.web.lms.instructor.grid import build_grid
from lti_tool.web.lms.instructor.learners import roster

__all__ = ["bp", "build_grid", "roster"]
