"""Test data: an issuer key and a MicroCred credential built with lti_tool.badges.ob."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from lti_tool.badges import ob, status_list

ISSUER_ID = "https://tool.example.edu/issuers/college"
STATUS_URL = "https://tool.example.edu/status/revocation/1"


def issuer_profile() -> dict[str, Any]:
    return ob.build_profile(ISSUER_ID, "Example College", url="https://example.edu",
                            email="registrar@example.edu",
                            image_url="https://tool.example.edu/static/img/college.png",
                            image_caption="Example College crest")


def achievement(*, credit_bearing: bool = True) -> dict[str, Any]:
    return ob.build_achievement(
        achievement_id="https://tool.example.edu/catalog/python-fundamentals/v3",
        name="Python Programming Fundamentals",
        description="Writes, tests and debugs small Python programs.",
        criteria_narrative="Outcomes: variables, control flow, functions, testing. "
                           "Rule: every required skill demonstrated (pass).\n\n"
                           + ob.workload_narrative("37.5", ["Online, asynchronous",
                                                            "In person"]),
        image_url="https://tool.example.edu/badges/python-fundamentals.png",
        image_caption="Badge: Python Programming Fundamentals",
        alignments=[ob.AlignmentTarget("Control flow", "https://case.example.org/items/cf",
                                       target_code="PY.CF", target_framework="College skills",
                                       target_type="CFItem"),
                    ob.AlignmentTarget("Use programming languages",
                                       "http://data.europa.eu/esco/skill/abc",
                                       target_framework="ESCO", target_type="ext:ESCOSkill")],
        credits_available=1.5 if credit_bearing else None,
        field_of_study="Computer Science", human_code="CS-PY-101", in_language="en-CA",
        version="3", tags=["python", "programming"])


def credential(*, index: int = 7, valid_until: datetime | None = None,
               credit_bearing: bool = True, number: int = 1) -> dict[str, Any]:
    return ob.build_credential(
        credential_id=f"https://tool.example.edu/credentials/{number:08d}",
        issuer=issuer_profile(), achievement=achievement(credit_bearing=credit_bearing),
        valid_from=datetime(2026, 9, 1, tzinfo=UTC),
        valid_until=valid_until or datetime(2031, 9, 1, tzinfo=UTC),
        recipient_email="Learner.One@Example.edu", salt="b1946ac92492d2347c6235b4d2611184",
        name="Python Programming Fundamentals",
        evidence=[ob.EvidenceItem("Wrote and tested a text-adventure game.",
                                  name="Control flow demonstration", genre="Project")],
        credential_status=status_list.build_status_entry(STATUS_URL, index),
        source=ob.build_profile("https://tool.example.edu/contexts/cs101-f26",
                                "CS101 Fall 2026 (for-credit course)"),
        awarded_date=datetime(2026, 9, 1, tzinfo=UTC))


def issuer_key(seed: int = 1) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def poison_credential(points: int = 9) -> dict[str, Any]:
    """A ~10 KB credential whose ``source`` is two symmetric stars of ``points`` blank
    nodes (issue 8): two centre Profiles, each with ``points`` parent organizations, every
    one of which names all the points of the other star as its own parents. Nothing tells
    these blank nodes apart, so RDF canonicalization must try their permutations (PyLD ran
    for 30 s). Only OB 3.0 terms are used, so every JSON-LD check passes."""
    def profile(label: str, parents: list[str]) -> dict[str, Any]:
        node: dict[str, Any] = {"id": f"_:{label}", "type": ["Profile"], "name": "Campus"}
        if parents:
            node["parentOrg"] = [{"id": f"_:{p}"} for p in parents]
        return node

    nodes = []
    for centre, other in (("a", "b"), ("b", "a")):
        mine = [f"{centre}{i}" for i in range(points)]
        nodes.append(profile(centre, mine))
        nodes.extend(profile(m, [f"{other}{j}" for j in range(points)]) for m in mine)
    poisoned = credential()
    poisoned["credentialSubject"]["source"] = nodes[0]
    nodes[0]["parentOrg"].extend(nodes[1:])
    return poisoned


def padded_credential(alignments: int = 10_000) -> dict[str, Any]:
    """A genuine-looking credential padded with ``alignments`` alignments (~1.5 MB)."""
    padded = credential()
    padded["credentialSubject"]["achievement"]["alignment"] = [
        ob.AlignmentTarget(f"Skill {i}", f"https://case.example.org/items/{i}",
                           target_code=f"PY.{i}", target_framework="College skills",
                           target_type="CFItem").to_json() for i in range(alignments)]
    return padded
