"""``python -m lti_tool.cli`` is the ``microcred`` command."""

from lti_tool.cli import main

main()
