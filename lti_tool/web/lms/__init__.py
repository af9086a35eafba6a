"""Everything that runs inside the LMS: the LTI endpoints (``launch``: OIDC login, launch,
the landing page, deep linking, Canvas configuration, Dynamic Registration), the
instructor's course pages (``instructor``, ``/course``) and the learner's own pages
(``learner``, ``/me``) and prior learning assessment (``plar``, ``/plar``)."""

from flask import Blueprint

from lti_tool.web.lms import instructor, launch, learner, plar

BLUEPRINTS: tuple[Blueprint, ...] = (launch.bp, learner.bp, instructor.bp, plar.bp)
