"""The LTI boundary: the only package that imports pylti1p3. It turns HTTP requests from a
platform into a plain ``LaunchContext`` and back (deep-linking responses, services)."""
