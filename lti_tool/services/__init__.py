"""Use cases. Each takes a SQLAlchemy ``Session`` and its collaborators explicitly; none
touches ``flask.request`` or pylti1p3 objects."""
