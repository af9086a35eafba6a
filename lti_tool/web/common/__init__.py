"""What the pages of every audience share: the launch session (``launch_session``: the
``lt`` token, cookies, role checks, CSRF), CSRF for login-free forms (``public_forms``), who
may act on which catalog (``catalog_access``), and signing or revoking credentials right
after a route awards or revokes (``awarding``)."""
