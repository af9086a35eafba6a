"""Defaults shared by every profile live in lti_tool/settings.py (the declared settings)."""
