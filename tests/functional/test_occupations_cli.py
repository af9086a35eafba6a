"""``microcred occupations`` end to end against its own SQLite file: the sample, import
(every problem listed, nothing applied, exit 1), dry run, export round trip, list."""

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


def test_demo_seed_brings_the_sample_and_export_import_round_trips(cli, tmp_path):
    assert cli("demo", "seed").exit_code == 0
    listed = cli("occupations", "list")
    assert listed.exit_code == 0
    assert "NOC-33102\t33102\tNurse aides, orderlies and patient service associates" \
        in listed.stdout
    assert "essential skills covered" in listed.stdout
    again = cli("occupations", "import", "--sample")
    assert again.exit_code == 0 and "Added 0 sample occupations" in again.stdout

    for fmt in ("json", "csv"):
        out = tmp_path / f"occupations.{fmt}"
        assert cli("occupations", "export", "-o", str(out)).exit_code == 0
        checked = cli("occupations", "import", str(out), "--dry-run")
        assert checked.exit_code == 0, checked.output
        assert "0 occupations created, 0 replaced, 5 unchanged" in checked.stdout
    document = json.loads((tmp_path / "occupations.json").read_text(encoding="utf-8"))
    assert len(document["occupations"]) == 5


def test_a_bad_file_lists_every_problem_and_changes_nothing(cli, tmp_path):
    assert cli("demo", "seed").exit_code == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"occupations": [
        {"code": "NOC-1", "noc_code": "1", "title": "T", "skills": [{"name": "A",
                                                                     "skill": "NOPE"}]},
        {"code": "NOC-33102", "title": "", "noc_code": "33102"},
    ]}), encoding="utf-8")
    result = cli("occupations", "import", str(bad))
    assert result.exit_code == 1
    assert "problem(s) found; nothing was imported" in result.stdout
    assert "occupations[0].noc_code (noc_code)" in result.stdout
    assert "occupations[0].skills[0].skill (skill): no skill with the code NOPE" in result.stdout
    assert "occupations[1].title (title)" in result.stdout
    listed = cli("occupations", "list").stdout
    assert "NOC-1\t" not in listed and "Nurse aides" in listed

    good = tmp_path / "new.csv"
    good.write_text("code,title,noc_code,source,skill_name,skill_code\n"
                    "NOC-21211,Data scientists,21211,NOC 2021,Spreadsheets,SS-FORMULAS\n",
                    encoding="utf-8")
    done = cli("occupations", "import", str(good))
    assert done.exit_code == 0 and "1 occupations created" in done.stdout
    assert "NOC-21211\t21211\tData scientists" in cli("occupations", "list").stdout


def test_usage_errors_are_one_line(cli, tmp_path):
    for args in (("occupations", "import"),
                 ("occupations", "import", "x.json", "--sample"),
                 ("occupations", "import", str(tmp_path / "missing.json"))):
        result = cli(*args)
        assert result.exit_code == 2, result.output
        assert result.stderr.strip().startswith("error: ")
        assert len(result.stderr.strip().splitlines()) == 1
