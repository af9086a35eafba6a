from flask import Blueprint

from lti_tool.web.admin.catalog import bp

BLUEPRINTS: tuple[Blueprint, ...] = (bp,)
