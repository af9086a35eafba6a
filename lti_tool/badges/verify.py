"""A step-by-step verifier for Open Badges 3.0 / CLR 2.0 credentials.

Input is untrusted bytes: credential JSON, a compact JWS (VC-JWT), a baked PNG or a baked
SVG. The verifier never renders images, never fetches anything (contexts, keys, schemas,
status lists come from the bundle or from callbacks the caller passes) and never lets an
exception escape: every problem becomes a :class:`Step` with a readable message.

Steps follow OB 3.0 §9 "Verification and Validation"
(https://www.imsglobal.org/spec/ob/v3p0/#verificationvalidation) and the probes of the
1EdTech validator (``shared/conformance/fixtures/README.md``):

``input`` -> ``extract`` (PNG/SVG) -> ``parse`` -> ``context`` -> ``type`` -> ``issuer`` ->
``credentialSubject`` -> ``evidence`` -> ``json-ld`` -> ``schema`` -> ``proof`` ->
``issuer-key`` -> ``jwt-claims`` (VC-JWT) -> ``validity`` -> ``status`` -> ``endorsements``
(embedded EndorsementCredentials are verified the same way).

Proofs checked: ``eddsa-rdfc-2022`` (and the legacy ``eddsa-2022`` / ``Ed25519Signature2020``
forms, reported as outdated), ``ecdsa-sd-2023`` derived proofs, and VC-JWT (RS256, ES256,
EdDSA). Unknown proof types are ignored when another proof verifies.

Result: ``invalid`` if any step is an error (the reason is the first error), ``warning`` if
any step warns, else ``valid``.

Who signed (:mod:`.binding`): a proof counts only when its key is shown to be the issuer's.
``did:key`` keys belong to that DID; any other key must be established by the caller's
``key_resolver`` (MicroCred's own issuers from the database, other https issuers from
their published profile), listed for signing credentials and not withdrawn. A key that
only travels with the credential (a ``[controller]#[publicKeyMultibase]`` fragment, a
VC-JWT ``jwk`` header) can check the signature, never who made it: such a credential is
reported "signature correct, but not shown to be the issuer's key" and is **invalid**. The
steps ``proof`` (is the signature intact?) and ``issuer-key`` (is the key the issuer's?)
say so separately.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from lti_tool.badges import (
    baking,
    binding,
    contexts,
    ecdsa_sd,
    eddsa,
    jwt_vc,
    linked_data,
    schemas,
    status_list,
)
from lti_tool.badges.binding import IssuerKey, KeyResolver
from lti_tool.badges.errors import BadgeError, ContextNotAllowedError, TooComplexError
from lti_tool.domain.json_values import as_list, node_types

logger = logging.getLogger(__name__)

StepStatus = Literal["ok", "warn", "error", "skipped"]
Result = Literal["valid", "warning", "invalid"]
#: Returns the status list credential for a URL (a dict, JSON text or bytes), or None.
StatusListResolver = Callable[[str], Mapping[str, Any] | str | bytes | None]

MAX_INPUT_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_PROOFS = 8
MAX_ENDORSEMENTS = 16
MAX_RECORD_CREDENTIALS = 100
_UNDEFINED_BASE = "https://undefined-term.microcred.invalid/"

OB_TYPES = ("OpenBadgeCredential", "AchievementCredential")
CredentialKind = Literal["ob", "endorsement", "clr", "status-list"]


@dataclass
class Step:
    name: str
    status: StepStatus
    message: str


@dataclass
class VerificationReport:
    result: Result
    reason: str
    steps: list[Step]
    format: str
    credential: dict[str, Any] | None = None
    kind: str | None = None
    revoked: bool = False
    suspended: bool = False
    expired: bool = False
    not_yet_valid: bool = False
    #: Refused for its size or complexity before it could cost more than the budget:
    #: nothing about it was verified (the API answers 422).
    too_complex: bool = False

    @property
    def valid(self) -> bool:
        return self.result == "valid"

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def errors(self) -> list[Step]:
        return [s for s in self.steps if s.status == "error"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["steps"] = [asdict(s) for s in self.steps]
        return data


def verify(data: bytes | str, *, now: datetime | None = None,
           clock: Callable[[], datetime] | None = None,
           key_resolver: KeyResolver | None = None,
           status_resolver: StatusListResolver | None = None,
           max_bytes: int = MAX_INPUT_BYTES) -> VerificationReport:
    """Verify untrusted input (JSON, compact JWS, baked PNG or SVG). Never raises."""
    run = _Run(now or (clock or (lambda: datetime.now(UTC)))(), key_resolver,
               status_resolver)
    try:
        run.from_bytes(data, max_bytes)
    except Exception:  # the report must always come back; log for us, generic for them
        logger.exception("badge verifier failed unexpectedly")
        run.add("internal", "error", "the verifier could not process this input")
    return run.report()


def verify_credential(credential: Mapping[str, Any], *, now: datetime | None = None,
                      key_resolver: KeyResolver | None = None,
                      status_resolver: StatusListResolver | None = None) -> VerificationReport:
    """Verify an already-parsed credential with an embedded proof. Never raises."""
    run = _Run(now or datetime.now(UTC), key_resolver, status_resolver)
    run.format = "json"
    try:
        if _depth_exceeds(credential, MAX_DEPTH):
            run.add("parse", "error", f"JSON is nested deeper than {MAX_DEPTH} levels")
        else:
            run.check_credential(dict(credential), None)
    except Exception:
        logger.exception("badge verifier failed unexpectedly")
        run.add("internal", "error", "the verifier could not process this input")
    return run.report()


# --- key resolution ---------------------------------------------------------------------


def _guarded(resolver: KeyResolver | None) -> KeyResolver | None:
    """The caller's resolver, with unexpected failures logged and reported in words."""
    if resolver is None:
        return None

    def ask(vm: str) -> IssuerKey | None:
        try:
            return resolver(vm)
        except BadgeError:
            raise
        except Exception as exc:
            logger.exception("key resolver failed for %s", vm)
            raise BadgeError("the issuer's published keys could not be looked up just now") \
                from exc

    return ask


def _guarded_status(resolver: StatusListResolver | None) -> StatusListResolver | None:
    """The caller's status list resolver, with unexpected failures logged and reported."""
    if resolver is None:
        return None

    def ask(url: str) -> Mapping[str, Any] | str | bytes | None:
        try:
            return resolver(url)
        except BadgeError:
            raise
        except Exception as exc:
            logger.exception("status list resolver failed for %s", url)
            raise BadgeError("the issuer's status list could not be looked up just now") \
                from exc

    return ask


# --- helpers ----------------------------------------------------------------------------


def _clip(text: str, size: int = 120) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, Mapping):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


def _load_status_list(raw: Mapping[str, Any] | str | bytes) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        return dict(raw)
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if len(text) > MAX_INPUT_BYTES:
        raise BadgeError("status list credential is larger than 2 MB")
    value = _parse_json(text)
    if not isinstance(value, dict):
        raise BadgeError("status list credential is not a JSON object")
    return value


class _Run:
    def __init__(self, now: datetime, key_resolver: KeyResolver | None,
                 status_resolver: StatusListResolver | None, *, nested: bool = False,
                 check_status: bool = False) -> None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self.now = now
        #: a nested run (status list, endorsement) checks no status unless told to (the
        #: credentials inside a learner record are)
        self.check_status = check_status or not nested
        self.key_resolver = _guarded(key_resolver)
        self.status_resolver = _guarded_status(status_resolver)
        self.nested = nested
        self.steps: list[Step] = []
        self.cost_steps: list[Step] = []
        self.format = "unknown"
        self.credential: dict[str, Any] | None = None
        self.kind: CredentialKind | None = None
        self.vcdm11 = False
        self.flags: dict[str, bool] = {"revoked": False, "suspended": False,
                                       "expired": False, "not_yet_valid": False,
                                       "too_complex": False}

    # bookkeeping
    def add(self, name: str, status: StepStatus, message: str) -> Step:
        step = Step(name, status, message)
        self.steps.append(step)
        return step

    def too_complex(self, step: Step) -> None:
        self.flags["too_complex"] = True
        self.cost_steps.append(step)

    def report(self) -> VerificationReport:
        errors = [s for s in self.steps if s.status == "error"]
        warnings = [s for s in self.steps if s.status == "warn"]
        result: Result
        if errors:
            # When the signature holds, "revoked" / "expired" / "not yet valid" is the news;
            # when it does not, the dates and status are not trustworthy anyway.
            proof_failed = any(s.name in ("proof", "issuer-key") for s in errors)

            def rank(step: Step) -> int:
                if step in self.cost_steps:
                    return 0  # nothing else was really checked
                return 1 if not proof_failed and step.name in ("status", "validity") else 2

            ranked = sorted(errors, key=rank)
            result, reason = "invalid", f"{ranked[0].name}: {ranked[0].message}"
        elif warnings:
            result = "warning"
            reason = "; ".join(f"{s.name}: {s.message}" for s in warnings)
        else:
            result, reason = "valid", "all checks passed"
        return VerificationReport(result, reason, self.steps, self.format, self.credential,
                                  self.kind, **self.flags)

    # input -------------------------------------------------------------------------------
    def from_bytes(self, data: bytes | str, max_bytes: int) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if len(raw) > max_bytes:
            self.add("input", "error", f"input is {len(raw):,} bytes; the limit is "
                     f"{max_bytes:,} bytes")
            return
        if not raw.strip():
            self.add("input", "error", "input is empty")
            return
        if raw.startswith(baking.PNG_SIGNATURE):
            self.format = "png"
            self.add("input", "ok", "baked PNG image")
            self._extracted(lambda: baking.extract_png(raw))
            return
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.add("input", "error", "input is not JSON, a JWT, a PNG or an SVG (binary "
                     "data that is not a PNG)")
            return
        stripped = text.strip()
        if stripped.startswith("<"):
            self.format = "svg"
            self.add("input", "ok", "SVG image")
            self._extracted(lambda: baking.extract_svg(raw))
        elif stripped.startswith(("{", "[")):
            self.format = "json"
            self.add("input", "ok", "JSON")
            self._json(stripped)
        elif jwt_vc.looks_like_jwt(stripped):
            self.format = "jwt"
            self.add("input", "ok", "compact JWS (VC-JWT)")
            self._jwt(stripped)
        else:
            self.add("input", "error", "input is not JSON, a JWT, a PNG or an SVG")

    def _extracted(self, extract: Callable[[], baking.ExtractedCredential]) -> None:
        try:
            extracted = extract()
        except BadgeError as exc:
            self.add("extract", "error", exc.message)
            return
        what = "a JSON credential" if extracted.kind == "json" else "a VC-JWT"
        self.add("extract", "ok", f"the image holds {what}")
        for note in extracted.notes:
            self.add("image-safety", "ok", note)
        if extracted.kind == "json":
            self._json(extracted.payload)
        else:
            self._jwt(extracted.payload)

    def _json(self, text: str) -> None:
        try:
            value = _parse_json(text)
        except RecursionError:
            self.add("parse", "error", "JSON is nested too deeply")
            return
        except ValueError as exc:
            self.add("parse", "error", f"not valid JSON: {_clip(str(exc), 160)}")
            return
        if not isinstance(value, dict):
            self.add("parse", "error", "JSON is not an object (a credential is a JSON object)")
            return
        if _depth_exceeds(value, MAX_DEPTH):
            self.add("parse", "error", f"JSON is nested deeper than {MAX_DEPTH} levels")
            return
        self.add("parse", "ok", "JSON object")
        self.check_credential(value, None)

    def _jwt(self, token: str) -> None:
        try:
            decoded = jwt_vc.decode_jwt(token)
        except BadgeError as exc:
            self.add("parse", "error", exc.message)
            return
        if _depth_exceeds(decoded.payload, MAX_DEPTH):
            self.add("parse", "error", f"JWT payload is nested deeper than {MAX_DEPTH} levels")
            return
        where = "the 'vc' claim (VCDM 1.1 form)" if decoded.uses_vc_claim else "the payload"
        self.add("parse", "ok", f"JWT decoded; credential taken from {where}")
        self.check_credential(decoded.credential, decoded)

    # credential --------------------------------------------------------------------------
    def check_credential(self, credential: dict[str, Any],
                         jwt: jwt_vc.DecodedJwt | None) -> None:
        self.credential = credential
        # Bounded cost: a padded or hostile credential is refused before any schema,
        # JSON-LD or signature work (each of which grows with its size).
        if linked_data.count_json_values(credential, linked_data.MAX_JSON_VALUES) \
                > linked_data.MAX_JSON_VALUES:
            self.too_complex(self.add(
                "size", "error", f"the credential has more than "
                f"{linked_data.MAX_JSON_VALUES:,} JSON values (a genuine micro-credential has a "
                "few hundred); it is too large to verify"))
            return
        context_ok = self._context(credential)
        self._type(credential)
        if self.kind is not None:
            self._structure(credential)
        if context_ok:
            self._json_ld(credential)
        else:
            self.add("json-ld", "skipped", "not processed: the @context is not acceptable")
        if self.kind is not None:
            self._schema(credential)
        if jwt is not None:
            self._jwt_proof(jwt, credential)
        elif context_ok:
            self._embedded_proofs(credential)
        else:
            self.add("proof", "error", "cannot verify the proof: the @context is not "
                     "acceptable, so the credential cannot be canonicalized")
        self._validity(credential)
        self._status(credential)
        if not self.nested and self.kind in ("ob", "endorsement", "clr"):
            self._endorsements(credential)
        if not self.nested and self.kind == "clr":
            self._record_credentials(credential)

    def _nested(self, item: Any, *, check_status: bool) -> VerificationReport | None:
        """Verify an embedded credential (object or VC-JWT) as its own run; None when the
        item is not a credential at all."""
        nested = _Run(self.now, self.key_resolver,
                      self.status_resolver if check_status else None, nested=True,
                      check_status=check_status)
        if isinstance(item, str):
            nested._jwt(item)
        elif isinstance(item, dict):
            nested.check_credential(item, None)
        else:
            return None
        return nested.report()

    def _record_credentials(self, credential: Mapping[str, Any]) -> None:
        """Each credential in a learner record must verify on its own too (CLR 2.0 §8:
        the record's proof says who assembled it, not that what it holds is still good)."""
        embedded: list[Any] = []
        for subject in as_list(credential.get("credentialSubject")):
            if isinstance(subject, Mapping):
                embedded.extend(as_list(subject.get("verifiableCredential")))
        if not embedded:
            return
        problems: list[str] = []
        for index, item in enumerate(embedded[:MAX_RECORD_CREDENTIALS]):
            outcome = self._nested(item, check_status=True)
            name = item.get("name") if isinstance(item, dict) else None
            label = f"credential {index + 1}" + (f" ({_clip(str(name), 60)})" if name else "")
            if outcome is None:
                problems.append(f"{label} is not a credential")
            elif outcome.result == "invalid":
                problems.append(f"{label}: {outcome.reason}")
        if len(embedded) > MAX_RECORD_CREDENTIALS:
            problems.append(f"more than {MAX_RECORD_CREDENTIALS} credentials")
        if problems:
            self.add("credentials", "error", "; ".join(problems[:5]))
        else:
            self.add("credentials", "ok", f"each of the {len(embedded)} credential(s) in the "
                     "record verifies on its own (signed by its issuer, not revoked)")

    def _endorsements(self, credential: Mapping[str, Any]) -> None:
        """Embedded EndorsementCredentials must verify too (OB 3.0 §9.2, endorsements)."""
        found = _embedded_endorsements(credential)
        if not found:
            return
        problems: list[str] = []
        for where, endorsement in found[:MAX_ENDORSEMENTS]:
            outcome = self._nested(endorsement, check_status=False)
            if outcome is None:
                problems.append(f"{where} is not a credential")
            elif outcome.result == "invalid":
                problems.append(f"{where} does not verify ({outcome.reason})")
        if len(found) > MAX_ENDORSEMENTS:
            problems.append(f"more than {MAX_ENDORSEMENTS} endorsements")
        if problems:
            self.add("endorsements", "error", "; ".join(problems[:5]))
        else:
            self.add("endorsements", "ok", f"{len(found)} embedded endorsement(s) verified")

    def _context(self, credential: Mapping[str, Any]) -> bool:
        raw = credential.get("@context")
        if raw is None:
            self.add("context", "error", "the credential has no @context")
            return False
        entries = as_list(raw)
        errors: list[str] = []
        warnings: list[str] = []
        urls: list[str] = []
        for entry in entries:
            if isinstance(entry, str):
                urls.append(entry)
                if not contexts.is_known_context(entry):
                    errors.append(f"unknown context {_clip(entry)!r} (remote contexts are "
                                  "never fetched)")
            elif isinstance(entry, Mapping):
                errors.append("the credential defines terms of its own (an inline @context "
                              "object); only the published standard contexts are accepted, "
                              "so other verifiers can read every term")
            else:
                errors.append("@context entries must be URLs or objects")
        first = entries[0] if entries else None
        if first == contexts.VC_V1:
            self.vcdm11 = True
            warnings.append("VCDM 1.1 context (outdated; current is "
                            f"{contexts.VC_V2})")
        elif first != contexts.VC_V2:
            errors.append(f"missing required context {contexts.VC_V2} as the first entry")
        types = node_types(credential)
        ob_urls = [u for u in urls if contexts.OB_CONTEXT_PATTERN.match(u)]
        clr_urls = [u for u in urls if contexts.CLR_CONTEXT_PATTERN.match(u)]
        if "ClrCredential" in types:
            if not clr_urls:
                errors.append("missing the CLR 2.0 context "
                              f"({contexts.CLR_V2P0})")
            elif contexts.CLR_V2P0 not in clr_urls:
                warnings.append(f"outdated CLR context {clr_urls[0]} (current is "
                                f"{contexts.CLR_V2P0})")
        elif any(t in types for t in (*OB_TYPES, "EndorsementCredential")):
            if not ob_urls:
                errors.append(f"missing the Open Badges 3.0 context ({contexts.OB_V3P0})")
            elif contexts.OB_V3P0 not in ob_urls:
                warnings.append(f"outdated OB context {ob_urls[0]} (current is "
                                f"{contexts.OB_V3P0})")
        if _nested_context(credential):
            errors.append("a node inside the credential carries its own @context that is not "
                          "a standard context")
        if errors:
            self.add("context", "error", "; ".join(errors))
            return not any("unknown context" in e or "must be" in e or "its own" in e
                           for e in errors)
        if warnings:
            self.add("context", "warn", "; ".join(warnings))
        else:
            self.add("context", "ok", "contexts are the expected, bundled ones")
        return True

    def _type(self, credential: Mapping[str, Any]) -> None:
        types = node_types(credential)
        if "VerifiableCredential" not in types:
            self.add("type", "error", "type must include 'VerifiableCredential'")
            return
        if any(t in types for t in OB_TYPES):
            self.kind = "ob"
        elif "EndorsementCredential" in types:
            self.kind = "endorsement"
        elif "ClrCredential" in types:
            self.kind = "clr"
        elif status_list.LIST_CREDENTIAL_TYPE in types:
            self.kind = "status-list"
        else:
            self.add("type", "error", "not an Open Badges 3.0 credential: type must include "
                     "'OpenBadgeCredential' or 'AchievementCredential' (or be an "
                     "EndorsementCredential / ClrCredential)")
            return
        self.add("type", "ok", ", ".join(types))

    def _structure(self, credential: Mapping[str, Any]) -> None:
        self._issuer(credential.get("issuer"))
        subject_problems = self._subject_problems(credential.get("credentialSubject"))
        if subject_problems:
            self.add("credentialSubject", "error", "; ".join(subject_problems))
        else:
            self.add("credentialSubject", "ok", "credentialSubject types are correct")
        evidence_problems = [
            f"evidence[{i}] type must include 'Evidence'"
            for i, item in enumerate(as_list(credential.get("evidence")))
            if isinstance(item, Mapping) and "Evidence" not in node_types(item)]
        if evidence_problems:
            self.add("evidence", "error", "; ".join(evidence_problems))
        elif credential.get("evidence") is not None:
            self.add("evidence", "ok", "evidence types are correct")

    def _issuer(self, issuer: Any) -> None:
        if issuer is None:
            self.add("issuer", "skipped", "no issuer (reported by the schema check)")
            return
        if isinstance(issuer, str):
            self.add("issuer", "ok", f"issuer {_clip(issuer)}")
            return
        if not isinstance(issuer, Mapping):
            self.add("issuer", "error", "issuer must be a URI or a Profile object")
            return
        problems = _profile_problems(issuer, "issuer")
        parent = issuer.get("parentOrg")
        if isinstance(parent, Mapping):
            problems += _profile_problems(parent, "issuer.parentOrg")
        if problems:
            self.add("issuer", "error", "; ".join(problems))
        else:
            self.add("issuer", "ok", f"issuer {_clip(str(issuer.get('id')))}")

    def _subject_problems(self, subject: Any) -> list[str]:
        expected = {"ob": "AchievementSubject", "endorsement": "EndorsementSubject",
                    "clr": "ClrSubject", "status-list": status_list.LIST_TYPE}
        wanted = expected[self.kind or "ob"]
        problems: list[str] = []
        subjects = as_list(subject)
        if not subjects:
            return ["the credential has no credentialSubject"]
        for item in subjects:
            if not isinstance(item, Mapping):
                problems.append("credentialSubject must be an object")
                continue
            if wanted not in node_types(item):
                problems.append(f"credentialSubject type must include {wanted!r}")
            if self.kind != "ob":
                continue
            for i, ident in enumerate(as_list(item.get("identifier"))):
                if isinstance(ident, Mapping) and "IdentityObject" not in node_types(ident):
                    problems.append(f"identifier[{i}] type must be 'IdentityObject'")
            for i, result in enumerate(as_list(item.get("result"))):
                if isinstance(result, Mapping) and "Result" not in node_types(result):
                    problems.append(f"result[{i}] type must include 'Result'")
            source = item.get("source")
            if isinstance(source, Mapping):
                problems += _profile_problems(source, "credentialSubject.source")
            achievement = item.get("achievement")
            if isinstance(achievement, Mapping):
                problems += _achievement_problems(achievement)
        return problems

    # json-ld and schema ------------------------------------------------------------------
    def _json_ld(self, credential: Mapping[str, Any]) -> None:
        dropped: list[str] = []

        def on_dropped(term: str | None) -> None:
            dropped.append(str(term))

        try:
            expanded = linked_data.expand(credential, base=_UNDEFINED_BASE,
                                          on_property_dropped=on_dropped)
        except TooComplexError as exc:
            self.too_complex(self.add("json-ld", "error", exc.message))
            return
        except BadgeError as exc:
            self.add("json-ld", "error", exc.message)
            return
        undefined_types = sorted({t[len(_UNDEFINED_BASE):] for t in _expanded_types(expanded)
                                  if t.startswith(_UNDEFINED_BASE)})
        problems = []
        if dropped:
            problems.append("properties not defined by the @context (they are not signed): "
                            + ", ".join(sorted(set(dropped))[:10]))
        if undefined_types:
            problems.append("types not defined by the @context: "
                            + ", ".join(undefined_types[:10]))
        if problems:
            self.add("json-ld", "error", "; ".join(problems))
        else:
            self.add("json-ld", "ok", "every term is defined by the bundled contexts")

    def _schema(self, credential: Mapping[str, Any]) -> None:
        if self.kind == "status-list":
            self.add("schema", "skipped", "no 1EdTech JSON Schema for status list credentials")
            return
        if self.vcdm11:
            self.add("schema", "warn", "VCDM 1.1 credential: the bundled 1EdTech schemas are "
                     "VCDM 2.0 only, so the schema was not checked")
            return
        if self.kind == "ob":
            plain = schemas.schema_errors(credential, schemas.OB_ACHIEVEMENT_CREDENTIAL_PLAIN)
            if not plain:
                self._schema_ok("valid against the OB 3.0 AchievementCredential schema",
                                credential)
                return
            lenient = schemas.schema_errors(credential, schemas.OB_ACHIEVEMENT_CREDENTIAL)
            if lenient:
                self.add("schema", "error", "AchievementCredential schema: "
                         + "; ".join(lenient))
            else:
                self.add("schema", "warn", "valid only against the JSON-LD adaptation of the "
                         "AchievementCredential schema; formal schema: " + "; ".join(plain))
            return
        name = (schemas.OB_ENDORSEMENT_CREDENTIAL if self.kind == "endorsement"
                else schemas.CLR_CREDENTIAL)
        errors = schemas.schema_errors(credential, name)
        if errors:
            self.add("schema", "error", f"{name}: " + "; ".join(errors))
        else:
            self._schema_ok(f"valid against {name}", credential)

    def _schema_ok(self, message: str, credential: Mapping[str, Any]) -> None:
        known = schemas.known_schema_ids()
        unknown = [str(entry.get("id")) for entry in as_list(credential.get("credentialSchema"))
                   if isinstance(entry, Mapping) and entry.get("id") not in known]
        if unknown:
            self.add("schema", "warn", f"{message}; credentialSchema "
                     f"{', '.join(_clip(u) for u in unknown[:3])} is not bundled and was not "
                     "checked (schemas are never fetched)")
        else:
            self.add("schema", "ok", message)

    # proofs ------------------------------------------------------------------------------
    def _embedded_proofs(self, credential: Mapping[str, Any]) -> None:
        """Every supported proof is checked twice: is the signature intact (``proof``), and
        is the key that made it the issuer's (``issuer-key``, :mod:`.binding`)? The
        credential is the issuer's only when one proof passes both."""
        proofs = as_list(credential.get("proof"))
        if not proofs:
            self.add("proof", "error", "the credential has no proof: it is not signed")
            return
        if len(proofs) > MAX_PROOFS:
            self.add("proof", "error", f"more than {MAX_PROOFS} proofs")
            return
        issuer_id, issuer_name = _issuer_id(credential), _issuer_name(credential)
        signed: list[str] = []
        failures: list[str] = []
        ignored: list[str] = []
        bound: list[str] = []
        unbound: list[str] = []
        legacy = False
        canonical_cache: dict[str, str] = {}
        for index, proof in enumerate(proofs):
            label = f"proof {index + 1}" if len(proofs) > 1 else "the proof"
            if not isinstance(proof, Mapping):
                failures.append(f"{label} is not an object")
                continue
            suite = proof.get("cryptosuite") or proof.get("type")
            if not _is_supported_proof(proof):
                ignored.append(f"{label} ({_clip(str(suite), 60)}) is of a kind this verifier "
                               "does not check")
                continue
            if proof.get("proofPurpose") != eddsa.PROOF_PURPOSE:
                failures.append(f"{label}: proofPurpose must be 'assertionMethod' (a proof "
                                "made for another purpose does not assert a credential)")
                continue
            try:
                if proof.get("cryptosuite") != ecdsa_sd.CRYPTOSUITE:
                    # canonicalize first: a document too large or too entangled is refused
                    # before anything is looked up about its key
                    eddsa.canonical_forms(credential, proof, cache=canonical_cache)
                resolved = binding.resolve(proof.get("verificationMethod"), self.key_resolver)
                if proof.get("cryptosuite") == ecdsa_sd.CRYPTOSUITE:
                    ecdsa_sd.verify_derived_proof(credential, proof, resolved.key)
                else:
                    eddsa.verify_proof(credential, proof, resolved.key, cache=canonical_cache)
            except TooComplexError as exc:
                self.too_complex(self.add("proof", "error", exc.message))
                self.add("issuer-key", "skipped", "not checked: the signature could not be "
                         "verified")
                return
            except BadgeError as exc:
                failures.append(f"{label}: {exc.message}" if len(proofs) > 1 else exc.message)
                continue
            legacy = legacy or suite in (eddsa.LEGACY_CRYPTOSUITE, eddsa.LEGACY_PROOF_TYPE)
            signed.append(str(suite))
            verdict = binding.check(resolved, issuer_id, issuer_name, credential.get("id"))
            (bound if verdict.ok else unbound).append(verdict.message)
        if not signed:
            if failures:
                self.add("proof", "error", "; ".join(failures + ignored))
            else:
                self.add("proof", "error", "no proof this verifier can check: "
                         + "; ".join(ignored) + f" (it checks {eddsa.CRYPTOSUITE}, "
                         f"{ecdsa_sd.CRYPTOSUITE} derived proofs and VC-JWT)")
            self.add("issuer-key", "skipped", "not checked: no signature could be verified")
            return
        what = (f"the signature is intact: nothing in the credential has changed since it "
                f"was signed ({', '.join(sorted(set(signed)))})")
        if failures:
            self.add("proof", "error", "; ".join(failures))
        elif legacy:
            self.add("proof", "warn", f"{what}; it uses a legacy proof format (current is "
                     f"{eddsa.CRYPTOSUITE})")
        else:
            self.add("proof", "ok", "; ".join([what, *ignored]))
        if bound:
            self.add("issuer-key", "ok", f"signed by the issuer: {bound[0]}")
        else:
            self.add("issuer-key", "error", unbound[0])

    def _jwt_proof(self, decoded: jwt_vc.DecodedJwt, credential: Mapping[str, Any]) -> None:
        if "crit" in decoded.header:
            self.add("proof", "error", "JOSE header has 'crit' extensions this verifier does "
                     "not understand")
            return
        try:
            resolved = jwt_vc.resolve_jwt_key(decoded, self.key_resolver)
            jwt_vc.verify_signature(decoded, resolved.key)
        except BadgeError as exc:
            self.add("proof", "error", exc.message)
            self.add("issuer-key", "skipped", "not checked: the signature could not be "
                     "verified")
            return
        self.add("proof", "ok", "the signature is intact: nothing in the credential has "
                 f"changed since it was signed ({decoded.header.get('alg')} VC-JWT)")
        verdict = binding.check(resolved, _issuer_id(credential), _issuer_name(credential),
                                credential.get("id"))
        if verdict.ok:
            self.add("issuer-key", "ok", f"signed by the issuer: {verdict.message}")
        else:
            self.add("issuer-key", "error", verdict.message)
        problems = jwt_vc.check_claims(decoded.payload, credential)
        if problems:
            self.add("jwt-claims", "error", "; ".join(problems))
        else:
            self.add("jwt-claims", "ok", "JWT claims match the credential")

    # time and status ---------------------------------------------------------------------
    def _validity(self, credential: Mapping[str, Any]) -> None:
        start_name = "issuanceDate" if "validFrom" not in credential else "validFrom"
        end_name = "expirationDate" if "validUntil" not in credential else "validUntil"
        raw_start, raw_end = credential.get(start_name), credential.get(end_name)
        start = jwt_vc.parse_datetime(raw_start)
        end = jwt_vc.parse_datetime(raw_end)
        if raw_start is not None and start is None:
            self.add("validity", "error", f"{start_name} is not a valid date-time")
            return
        if raw_end is not None and end is None:
            self.add("validity", "error", f"{end_name} is not a valid date-time")
            return
        if start is not None and start > self.now:
            self.flags["not_yet_valid"] = True
            self.add("validity", "error", f"not yet valid: {start_name} {raw_start} is in the "
                     "future")
            return
        if end is not None and end <= self.now:
            self.flags["expired"] = True
            self.add("validity", "error", f"expired: {end_name} {raw_end} has passed")
            return
        if start is None:
            self.add("validity", "skipped", f"no {start_name}")
            return
        until = f" until {raw_end}" if end is not None else " (no expiry)"
        self.add("validity", "ok", f"valid from {raw_start}{until}")

    def _status(self, credential: Mapping[str, Any]) -> None:
        entries = as_list(credential.get("credentialStatus"))
        if not entries:
            self.add("status", "skipped", "no credentialStatus (the issuer cannot revoke it)")
            return
        for entry in entries[:4]:
            if not isinstance(entry, Mapping):
                self.add("status", "error", "credentialStatus must be an object")
                continue
            self._status_entry(credential, entry)

    def _status_entry(self, credential: Mapping[str, Any], entry: Mapping[str, Any]) -> None:
        entry_type = entry.get("type")
        if entry_type != status_list.ENTRY_TYPE:
            self.add("status", "warn", f"status type {_clip(str(entry_type), 60)!r} is not "
                     "supported; status not checked")
            return
        url = entry.get("statusListCredential")
        if not isinstance(url, str) or not url:
            self.add("status", "error", "BitstringStatusListEntry has no statusListCredential")
            return
        if self.status_resolver is None or not self.check_status:
            self.add("status", "warn", f"status list {_clip(url)} was not checked (status "
                     "lists are never fetched from arbitrary hosts)")
            return
        try:
            raw = self.status_resolver(url)
            if raw is None:
                self.add("status", "warn", f"status list {_clip(url)} is not available; "
                         "revocation status unknown")
                return
            list_credential = _load_status_list(raw)
        except (BadgeError, ValueError, RecursionError) as exc:
            self.add("status", "warn", f"status list {_clip(url)} is unreadable: "
                     f"{_clip(str(exc), 120)}")
            return
        nested = _Run(self.now, self.key_resolver, None, nested=True)
        nested.check_credential(list_credential, None)
        nested_report = nested.report()
        if nested.kind != "status-list" or nested_report.result == "invalid":
            self.add("status", "warn", "the status list credential does not verify ("
                     f"{nested_report.reason}); revocation status unknown")
            return
        try:
            check = status_list.check_status(entry, list_credential)
        except BadgeError as exc:
            self.add("status", "error", exc.message)
            return
        if check.set and check.purpose == "revocation":
            self.flags["revoked"] = True
            self.add("status", "error", f"revoked by the issuer ({check.message})")
        elif check.set and check.purpose == "suspension":
            self.flags["suspended"] = True
            self.add("status", "error", f"suspended by the issuer ({check.message})")
        else:
            issuer_note = ""
            if _issuer_id(list_credential) != _issuer_id(credential):
                issuer_note = " (note: the status list has a different issuer)"
            self.add("status", "warn" if issuer_note else "ok", check.message + issuer_note)


def _issuer_id(credential: Mapping[str, Any]) -> Any:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, Mapping) else issuer


def _nested_context(credential: Mapping[str, Any]) -> bool:
    """Whether a node below the top level has an ``@context`` that is not a list of known
    context URLs (embedded credentials carry their standard contexts). An inline context
    can scope terms so that JSON-LD work grows with nesting depth; no genuine credential
    needs one."""
    stack: list[Any] = [v for k, v in credential.items() if k != "@context"]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if "@context" in node and not all(
                    isinstance(c, str) and contexts.is_known_context(c)
                    for c in as_list(node["@context"])):
                return True
            stack.extend(v for k, v in node.items() if k != "@context")
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _issuer_name(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    name = issuer.get("name") if isinstance(issuer, Mapping) else None
    return name if isinstance(name, str) and name.strip() else None


def _is_supported_proof(proof: Mapping[str, Any]) -> bool:
    if proof.get("type") == eddsa.PROOF_TYPE:
        return proof.get("cryptosuite") in (eddsa.CRYPTOSUITE, eddsa.LEGACY_CRYPTOSUITE,
                                            ecdsa_sd.CRYPTOSUITE)
    return proof.get("type") == eddsa.LEGACY_PROOF_TYPE


def _profile_problems(profile: Mapping[str, Any], where: str) -> list[str]:
    problems = []
    if "Profile" not in node_types(profile):
        problems.append(f"{where} type must include 'Profile'")
    for i, entry in enumerate(as_list(profile.get("otherIdentifier"))):
        if isinstance(entry, Mapping) and "IdentifierEntry" not in node_types(entry):
            problems.append(f"{where}.otherIdentifier[{i}] type must be 'IdentifierEntry'")
    return problems


def _achievement_problems(achievement: Mapping[str, Any]) -> list[str]:
    problems = []
    if "Achievement" not in node_types(achievement):
        problems.append("achievement type must include 'Achievement'")
    for i, item in enumerate(as_list(achievement.get("resultDescription"))):
        if isinstance(item, Mapping) and "ResultDescription" not in node_types(item):
            problems.append(f"achievement.resultDescription[{i}] type must include "
                            "'ResultDescription'")
    for i, item in enumerate(as_list(achievement.get("alignment"))):
        if isinstance(item, Mapping) and "Alignment" not in node_types(item):
            problems.append(f"achievement.alignment[{i}] type must include 'Alignment'")
    creator = achievement.get("creator")
    if isinstance(creator, Mapping):
        problems += _profile_problems(creator, "achievement.creator")
    return problems


def _embedded_endorsements(credential: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(where, endorsement) for every endorsement / endorsementJwt OB 3.0 allows."""
    holders: list[tuple[str, Any]] = [("credential", credential),
                                      ("issuer", credential.get("issuer"))]
    for i, subject in enumerate(as_list(credential.get("credentialSubject"))):
        if isinstance(subject, Mapping):
            achievement = subject.get("achievement")
            holders.append((f"credentialSubject[{i}].achievement", achievement))
            if isinstance(achievement, Mapping):
                holders.append((f"credentialSubject[{i}].achievement.creator",
                                achievement.get("creator")))
    found: list[tuple[str, Any]] = []
    for where, holder in holders:
        if not isinstance(holder, Mapping):
            continue
        for j, item in enumerate(as_list(holder.get("endorsement"))):
            found.append((f"{where}.endorsement[{j}]", item))
        for j, item in enumerate(as_list(holder.get("endorsementJwt"))):
            found.append((f"{where}.endorsementJwt[{j}]", item))
    return found


def _expanded_types(expanded: Any) -> list[str]:
    found: list[str] = []
    stack = [expanded]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "@value" not in node:
                found.extend(t for t in as_list(node.get("@type")) if isinstance(t, str))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


__all__ = ["ContextNotAllowedError", "IssuerKey", "KeyResolver", "StatusListResolver", "Step",
           "VerificationReport",
           "verify", "verify_credential"]
