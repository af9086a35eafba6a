"""The CLI speaks English whatever the shell's locale: it serves operators (whose guides,
docs/operations.md and the install guides, are English) and scripts that read its output;
it has no launch and no Accept-Language to choose from. The service messages it prints are
translatable (they also reach the admin pages and the API), and outside a request they are
English."""

from __future__ import annotations

from tests.functional.test_cli import assert_one_line_error, cli_env, runner_for


def test_a_french_shell_still_gets_english_messages(tmp_path) -> None:
    run = runner_for(cli_env(tmp_path, LANG="fr_CA.UTF-8", LC_ALL="fr_CA.UTF-8",
                             LANGUAGE="fr_CA:fr"))
    assert run("db", "upgrade").exit_code == 0
    result = run("platforms", "add", "--name", "Mauvaise", "--issuer", "pas-une-url",
                 "--client-id", "c1", "--preset", "moodle")
    assert_one_line_error(result, "issuer must be an absolute https:// URL")
    result = run("platforms", "add", "--name", "Nue", "--issuer", "https://lms.example",
                 "--client-id", "c1")
    assert_one_line_error(result, "auth_login_url is required (or choose a preset)")
    assert run("platforms", "list").output.strip() == "No platforms registered."
