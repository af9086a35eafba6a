"""A gunicorn worker SIGKILLed in the middle of the request that records a learner's final
demonstration, just before or just after its commit: after the autograder retries with
the same Idempotency-Key there is exactly one demonstration, one award and one signed
credential, and every retry gets the same answer (with the award in it)."""

from __future__ import annotations

import pytest
import requests

from lti_tool.models import Award, CredentialRecord, Demonstration, IdempotencyRecord, Skill
from tests.fault.conftest import SKILLS, World
from tests.fault.harness import wait_until


def _demonstration(world: World, sub: str, skill: str, *, key: str = "",
                   kill: str = "") -> requests.Response:
    headers = {}
    if key:
        headers["Idempotency-Key"] = key
    if kill:
        headers["X-Fault-Kill"] = kill
    return world.api("POST", "/api/v1/demonstrations", headers=headers, json={
        "offering_id": world.course.offering_id, "skill_code": skill, "outcome": "pass",
        "learner": {"platform_user_id": sub}})


@pytest.mark.parametrize(("point", "learner"), [("before-commit", 1), ("after-commit", 2)])
def test_a_worker_killed_around_the_commit_of_a_final_demonstration_loses_and_doubles_nothing(
        healthy: World, point: str, learner: int):
    world = healthy
    person = world.course.learners[learner]
    for skill in SKILLS[:2]:
        assert _demonstration(world, person.sub, skill).status_code == 201
    workers = set(world.web.workers())
    key = f"grader-run-{point}"

    with pytest.raises(requests.ConnectionError):
        _demonstration(world, person.sub, SKILLS[2], key=key, kill=point)
    # The killed worker is replaced by gunicorn.
    wait_until(lambda: len(set(world.web.workers())) == 2 and
               set(world.web.workers()) != workers, 20)

    retry = _demonstration(world, person.sub, SKILLS[2], key=key)
    assert retry.status_code == 201, retry.text[:500]
    answer = retry.json()
    assert [a["credential_code"] for a in answer["awards"]] == ["PYF"]
    # After the commit, the first answer was stored with the work: it is replayed.
    assert (retry.headers.get("Idempotent-Replayed") == "true") is (point == "after-commit")
    again = _demonstration(world, person.sub, SKILLS[2], key=key)
    assert again.status_code == 201 and again.json() == answer
    assert again.headers["Idempotent-Replayed"] == "true"

    assert world.count(Demonstration, Demonstration.person_id == person.person_id,
                       Demonstration.skill.has(Skill.code == SKILLS[2])) == 1
    assert world.count(Award, Award.person_id == person.person_id) == 1
    award_id = answer["awards"][0]["id"]
    assert world.count(CredentialRecord, CredentialRecord.award_id == award_id) == 1
    assert world.count(IdempotencyRecord, IdempotencyRecord.status == 201) >= 1
    # Every award in the database has its credential.
    assert world.count(Award) == world.count(CredentialRecord)
