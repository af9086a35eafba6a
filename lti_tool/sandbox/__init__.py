"""The sandbox LMS: a tiny LTI 1.3 platform inside MicroCred so anyone can try the tool
without Moodle or Canvas. It is registered as an ordinary Platform (its own issuer, client
id, deployment and signing key) and drives the real OIDC flow through the browser; nothing
in the launch path knows it is a sandbox. On in development, refused in production."""

from __future__ import annotations

from flask import Flask


def register_sandbox(app: Flask) -> None:
    from lti_tool.sandbox.views import bp

    app.register_blueprint(bp)
