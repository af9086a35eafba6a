from lti_tool.web.lms.instructor.course import bp

__all__ = ["bp"]
