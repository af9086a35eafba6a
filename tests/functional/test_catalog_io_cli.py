"""``microcred issuers|catalog|demo`` end to end, against their own SQLite file (the CLI
opens and commits its own sessions, so it cannot share the per-test transaction)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lti_tool.cli import main


@pytest.fixture()
def cli(tmp_path: Path) -> Any:
    runner = CliRunner(env={
        "MICROCRED_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "MICROCRED_INSTANCE_PATH": str(tmp_path / "instance"), "LOG_LEVEL": "ERROR",
    })

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    return run


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def _comparable(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.pop("exported_at")
    doc.pop("issuer")
    return doc


def test_export_then_import_into_another_issuer_round_trips(cli: Any, tmp_path: Path) -> None:
    seeded = cli("demo", "seed")
    assert seeded.exit_code == 0 and "4 micro-credentials" in seeded.stdout
    assert "already seeded" in cli("demo", "seed").stdout
    source = tmp_path / "lakeshore.json"
    assert cli("catalog", "export", "--output", str(source)).exit_code == 0

    created = cli("issuers", "create", "--slug", "northern", "--name", "Northern College",
                  "--url", "https://northern.example", "--email", "mc@northern.example")
    assert created.exit_code == 0, created.output
    listed = cli("issuers", "list").stdout
    assert "lakeshore\t" in listed and "northern\tNorthern College" in listed

    dry = cli("catalog", "import", str(source), "--issuer", "northern", "--dry-run")
    assert dry.exit_code == 0, dry.output
    # The demo's four entries, and the micro-credentials of its pathways (issue 12).
    from lti_tool.services import demo, demo_pathways

    total = len(demo.CREDENTIALS) + len(demo_pathways.CREDENTIALS)
    assert "nothing was changed" in dry.stdout
    assert f"{total} micro-credentials created" in dry.stdout
    assert f"{len(demo_pathways.PATHWAYS)} pathways created" in dry.stdout
    empty = json.loads(cli("catalog", "export", "--issuer", "northern").stdout)
    assert empty["credentials"] == [] and empty["skills"] == []

    applied = cli("catalog", "import", str(source), "--issuer", "northern")
    assert applied.exit_code == 0, applied.output
    skills = len(demo.SKILLS) + len(demo_pathways.SKILLS)
    assert applied.stdout.startswith(f"Imported into northern: {skills} skills created")
    copy = tmp_path / "northern.json"
    assert cli("catalog", "export", "--issuer", "northern", "-o", str(copy)).exit_code == 0
    assert _comparable(copy) == _comparable(source)

    again = cli("catalog", "import", str(source), "--issuer", "northern")
    assert again.exit_code == 0, again.output
    assert f"{total} unchanged" in again.stdout and "Nothing changed." in again.stdout


def test_a_bad_file_prints_every_problem_applies_nothing_and_exits_1(
        cli: Any, tmp_path: Path) -> None:
    cli("demo", "seed")
    source = tmp_path / "catalog.json"
    cli("catalog", "export", "-o", str(source))
    doc = json.loads(source.read_text())
    doc["skills"][2]["name"] = ""
    doc["credentials"][1]["versions"][0]["content"]["notional_hours"] = "-5"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    cli("issuers", "create", "--slug", "target", "--name", "Target College",
        "--url", "https://target.example", "--email", "t@target.example")

    result = cli("catalog", "import", str(bad), "--issuer", "target")

    assert result.exit_code == 1
    assert "2 problem(s) found; nothing was imported:" in result.stdout
    assert "  skills[2].name (name): " in result.stdout
    assert "  credentials[1].versions[0].content.notional_hours (notional_hours): " \
        in result.stdout
    after = json.loads(cli("catalog", "export", "--issuer", "target").stdout)
    assert after["skills"] == [] and after["credentials"] == []


def test_skills_csv_export_and_import(cli: Any, tmp_path: Path) -> None:
    cli("demo", "seed")
    csv_path = tmp_path / "skills.csv"
    assert cli("catalog", "export", "-o", str(csv_path)).exit_code == 0  # CSV by extension
    written = csv_path.read_bytes().decode("utf-8")
    assert written.startswith("code,name,description,criteria,tags,") and "\r\n" in written
    assert cli("catalog", "export", "--format", "csv").stdout_bytes.decode() == written
    cli("issuers", "create", "--slug", "csvland", "--name", "CSV College",
        "--url", "https://csv.example", "--email", "c@csv.example")
    result = cli("catalog", "import", str(csv_path), "--issuer", "csvland")
    assert result.exit_code == 0, result.output
    from lti_tool.services import demo, demo_pathways

    assert f"{len(demo.SKILLS) + len(demo_pathways.SKILLS)} skills created" in result.stdout

    broken = tmp_path / "broken.csv"
    broken.write_text("code,name\nOK1,Fine\nbad code,Broken\n,No code\n", encoding="utf-8")
    result = cli("catalog", "import", str(broken), "--issuer", "csvland")
    assert result.exit_code == 1
    assert "  row 3 (code): " in result.stdout and "  row 4 (code): " in result.stdout
    stdin = cli("catalog", "import", "-", "--format", "csv", "--issuer", "csvland",
                input="code,name\nSTDIN1,From stdin\n")
    assert stdin.exit_code == 0 and "1 skills created" in stdin.stdout


def test_errors_are_one_line_and_exit_2(cli: Any, tmp_path: Path) -> None:
    assert "no issuer yet" in _one_line_error(cli("catalog", "export"))
    cli("demo", "seed")
    cli("issuers", "create", "--slug", "second", "--name", "Second College",
        "--url", "https://second.example", "--email", "s@second.example")
    assert "choose one with --issuer" in _one_line_error(cli("catalog", "export"))
    assert "no issuer with slug 'nope'" in _one_line_error(
        cli("catalog", "export", "--issuer", "nope"))
    assert "cannot read" in _one_line_error(
        cli("catalog", "import", str(tmp_path / "missing.json"), "--issuer", "second"))
    assert "--format" in _one_line_error(
        cli("catalog", "import", str(tmp_path / "catalog.txt"), "--issuer", "second"))
    assert "url" in _one_line_error(
        cli("issuers", "create", "--slug", "x", "--name", "X", "--url", "javascript:alert(1)",
            "--email", "x@x.example"))
    assert "already exists" in _one_line_error(
        cli("issuers", "create", "--slug", "second", "--name", "Again",
            "--url", "https://again.example", "--email", "a@again.example"))
    assert "No platform with id 999" in _one_line_error(
        cli("issuers", "map", "--issuer", "second", "--platform-id", "999"))
    not_json = tmp_path / "notes.json"
    not_json.write_text("this is not json")
    result = cli("catalog", "import", str(not_json), "--issuer", "second")
    assert result.exit_code == 1 and "is not valid JSON" in result.stdout


def test_issuers_map_a_deployment(cli: Any) -> None:
    cli("demo", "seed")  # registers the sandbox platform (id 1, deployment sandbox-deployment-1)
    cli("issuers", "create", "--slug", "branch", "--name", "Branch Campus",
        "--url", "https://branch.example", "--email", "b@branch.example")
    mapped = cli("issuers", "map", "--issuer", "branch", "--platform-id", "1",
                 "--deployment-id", "sandbox-deployment-1")
    assert mapped.exit_code == 0, mapped.output
    assert "serves deployment sandbox-deployment-1 of platform 1" in mapped.stdout
    listed = cli("issuers", "list").stdout
    assert "branch\tBranch Campus\thttps://branch.example\tplatforms=1/deployment-pk-" in listed
    assert "no deployment 'other'" in _one_line_error(
        cli("issuers", "map", "--issuer", "branch", "--platform-id", "1",
            "--deployment-id", "other"))
