"""Benchmark the badge library: build + eddsa-rdfc-2022 sign, verify, re-issue throughput.

    .venv/bin/python bench/badges.py [--n 1000] [--repeat 200]

Reports, per credential (median and p95 in ms):

* build + sign      ob.build_credential + eddsa.sign (two RDFC-1.0 canonicalizations)
* verify proof      eddsa.verify_proof only (the cryptographic check)
* sign+verify pair  the two above; issue 8's target is <= 5 ms of CPU (was 11.6 ms)
* full report       verify.verify_credential: context, JSON-LD, both 1EdTech schemas,
                    proof, dates and the status list (itself a signed credential to verify)
* VC-JWT            sign_jwt + verify (EdDSA)

and the throughput of re-issuing --n credentials (build + sign, single process), then the
cost of hostile or oversized input (issue 8: <= 1 s of CPU for anything accepted): the
poison graph, a 10,000-alignment credential, the largest credential still accepted, and a
learner record of 40 credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric import ed25519

from lti_tool.badges import eddsa, jwt_vc, linked_data, ob, status_list, verify
from lti_tool.badges.binding import IssuerKey
from lti_tool.badges.multikey import multibase_b58_encode

ISSUER = "https://tool.example.edu/issuers/college"
STATUS_URL = "https://tool.example.edu/status/revocation/1"
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def build(number: int) -> dict[str, Any]:
    achievement = ob.build_achievement(
        achievement_id="https://tool.example.edu/catalog/python-fundamentals/v3",
        name="Python Programming Fundamentals",
        description="Writes, tests and debugs small Python programs.",
        criteria_narrative="Every required skill demonstrated.\n\n"
                           + ob.workload_narrative(37.5, ["Online, asynchronous"]),
        image_url="https://tool.example.edu/badges/py.png", image_caption="Python badge",
        alignments=[ob.AlignmentTarget(f"Skill {i}", f"https://case.example.org/items/{i}",
                                       target_code=f"PY.{i}", target_framework="College",
                                       target_type="CFItem") for i in range(4)],
        credits_available=1.5, field_of_study="Computer Science", human_code="CS-PY-101",
        in_language="en-CA", version="3", tags=["python"])

    return ob.build_credential(
        credential_id=f"https://tool.example.edu/credentials/{number:08d}",
        issuer=ob.build_profile(ISSUER, "Example College", url="https://example.edu",
                                email="registrar@example.edu",
                                image_url="https://tool.example.edu/img/college.png"),
        achievement=achievement, valid_from=datetime(2026, 9, 1, tzinfo=UTC),
        valid_until=datetime(2031, 9, 1, tzinfo=UTC),
        recipient_email=f"learner{number}@example.edu",
        evidence=[ob.EvidenceItem(f"Demonstration {i}", name=f"Skill {i}") for i in range(4)],
        credential_status=status_list.build_status_entry(STATUS_URL, number % 131_072))


def aligned(count: int) -> list[dict[str, Any]]:
    return [ob.AlignmentTarget(f"Skill {i}", f"https://case.example.org/items/{i}",
                               target_code=f"PY.{i}", target_framework="College",
                               target_type="CFItem").to_json() for i in range(count)]


Samples = tuple[list[float], list[float]]


def timed(fn: Callable[[], object], repeat: int) -> Samples:
    """(wall ms, CPU ms) per call. CPU time (this thread) is what to compare on a shared,
    loaded machine; wall time includes waiting for a core."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        cpu.append((time.thread_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return wall, cpu


def line(name: str, samples: Samples) -> str:
    wall, cpu = sorted(samples[0]), sorted(samples[1])
    p95 = wall[int(len(wall) * 0.95) - 1]
    return (f"{name:<20} CPU median {statistics.median(cpu):6.2f} ms | wall median "
            f"{statistics.median(wall):6.2f} ms, p95 {p95:6.2f} ms, min {wall[0]:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="credentials to re-issue")
    parser.add_argument("--repeat", type=int, default=200, help="samples per measurement")
    args = parser.parse_args()

    key = ed25519.Ed25519PrivateKey.from_private_bytes(b"\1" * 32)
    vm = ob.verification_method_id(ISSUER, key.public_key())
    resolver = {vm: IssuerKey(key.public_key(), ISSUER, "the issuer's profile")}.get
    status = eddsa.sign(status_list.build_status_list_credential(
        STATUS_URL, ISSUER, status_list.StatusList(), valid_from="2026-01-01T00:00:00Z"),
        key, vm)
    status_resolver = {STATUS_URL: status}.get

    # warm PyLD's context cache and the schema validators once, as a running service has
    warm = eddsa.sign(build(0), key, vm)
    assert verify.verify_credential(warm, now=NOW, key_resolver=resolver,
                                    status_resolver=status_resolver).result == "valid"

    counter = iter(range(1, 10**9))
    signed = [eddsa.sign(build(i), key, vm) for i in range(1, 21)]

    def sign_one() -> None:
        eddsa.sign(build(next(counter)), key, vm)

    def verify_one() -> None:
        credential = signed[next(counter) % len(signed)]
        eddsa.verify_proof(credential, credential["proof"][0], key.public_key())

    def pair() -> None:
        credential = eddsa.sign(build(next(counter)), key, vm)
        eddsa.verify_proof(credential, credential["proof"][0], key.public_key())

    def full() -> None:
        report = verify.verify_credential(signed[next(counter) % len(signed)], now=NOW,
                                          key_resolver=resolver,
                                          status_resolver=status_resolver)
        assert report.result == "valid"

    def jwt_pair() -> None:
        token = jwt_vc.sign_jwt(build(next(counter)), key, kid=vm)
        jwt_vc.verify_jwt(token, resolver)

    print(f"credential size: {len(str(warm))} chars; Python {sys.version.split()[0]}")
    pair_samples = timed(pair, args.repeat)
    for name, fn in (("build + sign", sign_one), ("verify proof", verify_one)):
        print(line(name, timed(fn, args.repeat)))
    print(line("sign+verify pair", pair_samples))
    print(line("full verify report", timed(full, args.repeat)))
    print(line("VC-JWT sign+verify", timed(jwt_pair, args.repeat)))

    start, start_cpu = time.perf_counter(), time.thread_time()
    for number in range(args.n):
        eddsa.sign(build(100_000 + number), key, vm)
    elapsed, cpu = time.perf_counter() - start, time.thread_time() - start_cpu
    print(f"re-issue {args.n} credentials (build + sign, one process): wall {elapsed:.2f} s = "
          f"{args.n / elapsed:,.0f}/s; CPU {cpu:.2f} s = {args.n / cpu:,.0f}/s per core")
    target = statistics.median(pair_samples[1])
    print(f"target <= 5 ms per sign+verify pair (CPU median): "
          f"{'met' if target <= 5 else 'MISSED'} ({target:.2f} ms); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    hostile(key, vm, resolver, status_resolver)


def hostile(key: ed25519.Ed25519PrivateKey, vm: str, resolver: Any,
            status_resolver: Any) -> None:
    """One full verification each (CPU seconds): refused quickly, or accepted within 1 s."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.unit.badges.builders import poison_credential

    def fake_proof(document: dict[str, Any]) -> dict[str, Any]:
        return {**document, "proof": [{
            "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
            "verificationMethod": vm, "created": "2026-09-01T00:00:00Z",
            "proofPurpose": "assertionMethod",
            "proofValue": multibase_b58_encode(bytes(range(64)))}]}

    largest = build(1)
    count = 0
    while True:  # the most alignments whose RDF stays within the statement limit
        largest["credentialSubject"]["achievement"]["alignment"] = aligned(count + 50)
        try:
            linked_data.to_quads(largest)
        except Exception:
            break
        count += 50
    largest["credentialSubject"]["achievement"]["alignment"] = aligned(count)
    signed_largest = eddsa.sign(largest, key, vm)
    padded = build(2)
    padded["credentialSubject"]["achievement"]["alignment"] = aligned(10_000)
    record = {"@context": ["https://www.w3.org/ns/credentials/v2",
                           "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
                           "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
              "id": "urn:uuid:0b6e1a57-3c1f-4c53-a6a1-7d4f1f1f0c01",
              "type": ["VerifiableCredential", "ClrCredential"], "name": "Learner record",
              "issuer": ob.build_profile(ISSUER, "Example College"),
              "validFrom": "2026-09-01T00:00:00Z",
              "credentialSubject": {"type": ["ClrSubject"],
                                    "verifiableCredential": [eddsa.sign(build(100 + i), key, vm)
                                                             for i in range(40)]}}
    cases = [
        ("poison graph (2 stars of 9)", json.dumps(fake_proof(poison_credential())).encode()),
        ("10,000 alignments", json.dumps(fake_proof(padded)).encode()),
        (f"largest accepted ({count} alignments)", json.dumps(signed_largest).encode()),
        ("learner record, 40 credentials", json.dumps(eddsa.sign(record, key, vm)).encode()),
    ]
    for name, data in cases:
        start, start_cpu = time.perf_counter(), time.thread_time()
        report = verify.verify(data, key_resolver=resolver, status_resolver=status_resolver)
        cpu, wall = time.thread_time() - start_cpu, time.perf_counter() - start
        print(f"{name:<34} {len(data):>9,} bytes: {report.result:<8} CPU {cpu:5.3f} s, wall "
              f"{wall:5.3f} s  ({report.reason[:70]})")


if __name__ == "__main__":
    main()
