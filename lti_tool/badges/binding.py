"""Who signed: binding a proof's key to the credential's issuer.

A correct signature only says "whoever holds this key signed this". A credential is the
issuer's only when the key is shown to be the issuer's, and the issuer authorizes it for
signing credentials (W3C Controlled Identifiers v1.0 §"Retrieve Verification Method"
https://www.w3.org/TR/cid-1.0/#retrieve-verification-method ; VC Data Integrity §4.3
https://www.w3.org/TR/vc-data-integrity/#verify-proof ; OB 3.0 §8.3 "Key Provenance"
https://www.imsglobal.org/spec/ob/v3p0/#key-provenance):

* a ``did:key`` verification method is controlled by that DID: it is the issuer's key
  exactly when the issuer's id is that DID;
* any other verification method is the issuer's when a resolver establishes it: its
  controller document (the issuer's profile) lists it under ``verificationMethod`` with
  ``controller`` = the issuer id, lists it under ``assertionMethod``, and has not revoked
  it. MicroCred's own issuers are answered from its database; other https issuers from
  their published profile (fetched by the caller; :func:`key_from_controller_document`
  reads it);
* a key that only travels with the credential (the ``[controller]#[publicKeyMultibase]``
  fragment, a VC-JWT ``jwk`` header) proves nothing about who holds it: the signature may
  be checked, but the credential is not shown to come from its issuer.

Everything here is pure: resolvers are callbacks; nothing is fetched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lti_tool.badges.errors import BadgeError, KeyFormatError
from lti_tool.badges.multikey import PublicKey, decode_multikey, public_key_from_did_key


@dataclass(frozen=True)
class IssuerKey:
    """A public key and what its controller says about it."""

    key: PublicKey
    #: The id that controls the key (an issuer id, a DID).
    controller: str
    #: Where the key was found, in words ("the profile Lakeshore College publishes at ...").
    where: str
    #: Listed under the controller's ``assertionMethod`` (may sign credentials).
    for_credentials: bool = True
    #: When the controller has withdrawn the key: why, in words. A withdrawn key proves
    #: nothing, whatever the date of the signature (whoever took it can back-date).
    withdrawn: str | None = None
    #: The issuer re-issued, with a current key, what this (withdrawn) key signed: the
    #: credential's own id then leads to the fresh copy.
    reissued: bool = False


#: Answers for a verification method / ``kid``: the key and its controller (IssuerKey),
#: None when the resolver does not know that controller, or raises BadgeError to refuse
#: (e.g. a controller it owns but a key it never published).
KeyResolver = Callable[[str], IssuerKey | None]


@dataclass(frozen=True)
class ResolvedKey:
    """The key a proof names, and, when established, who controls it."""

    key: PublicKey
    owner: IssuerKey | None
    #: Where an unbound key came from, in words (for the report).
    origin: str


def resolve(verification_method: Any, resolver: KeyResolver | None) -> ResolvedKey:
    """The key a proof's ``verificationMethod`` (or a JWT ``kid``) names. Raises BadgeError
    when there is no key to check the signature with."""
    vm = verification_method
    if not isinstance(vm, str) or not vm:
        raise BadgeError("the proof does not say which key made it (no verificationMethod)")
    if len(vm) > 2048:
        raise BadgeError("the proof's verificationMethod is too long")
    if vm.startswith("did:key:"):
        key = public_key_from_did_key(vm)
        controller = vm.partition("#")[0]
        return ResolvedKey(key, IssuerKey(key, controller, f"the did:key identifier {controller}"),
                           "did:key")
    scheme = vm.partition(":")[0].lower()
    if not vm.partition(":")[1] or not scheme.isascii() or not scheme.replace("+", "") \
            .replace("-", "").replace(".", "").isalnum():
        raise BadgeError(f"verificationMethod {_clip(vm)!r} is not a URI")
    owner = _ask(resolver, vm)
    fragment = vm.partition("#")[2]
    fragment_key = _fragment_key(fragment)
    if owner is not None:
        if fragment_key is not None and fragment_key != owner.key:
            raise BadgeError("the key written in the verificationMethod differs from the key "
                             "its controller publishes under that id")
        return ResolvedKey(owner.key, owner, owner.where)
    if scheme == "did":
        method = vm.split(":")[1] if vm.count(":") >= 2 else ""
        raise BadgeError(f"keys of 'did:{method}' identifiers cannot be looked up by this "
                         "verifier (it resolves did:key and https issuers)")
    if scheme not in ("https", "http", "urn"):
        raise BadgeError(f"unsupported verificationMethod URI scheme {scheme!r}")
    if fragment_key is not None:
        return ResolvedKey(fragment_key, None, "the verificationMethod itself (a key written "
                           "into the credential, which anyone can do)")
    raise BadgeError(f"the key {_clip(vm)!r} could not be obtained: no published list of keys "
                     "includes it")


def jwk_key(jwk_key_value: PublicKey, issuer_id: Any) -> ResolvedKey:
    """A VC-JWT key given only in the JOSE ``jwk`` header. It is the issuer's only when the
    issuer is a ``did:key`` of that very key."""
    if isinstance(issuer_id, str) and issuer_id.startswith("did:key:"):
        try:
            did_key = public_key_from_did_key(issuer_id)
        except KeyFormatError:
            did_key = None
        if did_key is not None and did_key == jwk_key_value:
            return ResolvedKey(jwk_key_value, IssuerKey(
                jwk_key_value, issuer_id.partition("#")[0],
                f"the did:key identifier {issuer_id}"), "did:key")
    return ResolvedKey(jwk_key_value, None, "the token's own header (a key the token "
                       "carries with it, which anyone can do)")


@dataclass(frozen=True)
class Binding:
    ok: bool
    message: str


def check(resolved: ResolvedKey, issuer_id: Any, issuer_name: str | None,
          credential_id: Any = None) -> Binding:
    """Whether the key is the issuer's, in words a registrar understands."""
    who = _who(issuer_id, issuer_name)
    owner = resolved.owner
    if not isinstance(issuer_id, str) or not issuer_id:
        return Binding(False, "the credential does not name its issuer, so no key can be "
                       "shown to be the issuer's")
    if owner is None:
        return Binding(False, f"the signature is correct, but the key that made it is not "
                       f"shown to be {who}'s: it came from {resolved.origin}, and no list of "
                       f"keys published by {who} includes it. Anyone can make such a "
                       "credential, so it is not valid")
    if owner.controller != issuer_id:
        return Binding(False, f"the key belongs to {_clip(owner.controller)}, not to the "
                       f"issuer the credential names ({who}): anyone can sign a credential "
                       "that names someone else as its issuer")
    if owner.withdrawn:
        fresh = ""
        if owner.reissued and isinstance(credential_id, str) and credential_id.startswith(
                ("https://", "http://")):
            fresh = (f" {who} has signed it again with a current key: the valid copy is at "
                     f"{_clip(credential_id, 200)}.")
        elif owner.reissued:
            fresh = f" {who} has signed it again with a current key: ask for a fresh copy."
        return Binding(False, f"{owner.withdrawn}.{fresh}")
    if not owner.for_credentials:
        return Binding(False, f"{who} publishes this key, but not for signing credentials "
                       "(it is not listed under assertionMethod)")
    return Binding(True, f"the key is {who}'s: {owner.where}")


def key_from_controller_document(vm: str, document: Mapping[str, Any],
                                 controller_document: Mapping[str, Any]) -> IssuerKey:
    """Read a verification method out of its published documents (CID 1.0 §3.3
    "Retrieve Verification Method"): ``document`` is what the VM URL without its fragment
    serves, ``controller_document`` what the VM's ``controller`` serves (often the same).

    Raises BadgeError with the reason when the documents do not establish the key.
    """
    base = vm.partition("#")[0]
    if document.get("id") != base:
        raise BadgeError(f"the document at {_clip(base)} does not describe itself "
                         "(its id differs), so its keys cannot be trusted")
    method = _find_method(vm, document)
    if method is None:
        raise BadgeError(f"{_clip(base)} does not list the key {_clip(vm)}")
    controller = method.get("controller")
    if not isinstance(controller, str) or controller_document.get("id") != controller:
        raise BadgeError("the key's controller document does not match its controller")
    key = _method_key(method)
    assertion = controller_document.get("assertionMethod")
    listed = [entry if isinstance(entry, str) else entry.get("id")
              for entry in (assertion if isinstance(assertion, list) else [assertion])
              if isinstance(entry, str | Mapping)]
    withdrawn = None
    if method.get("revoked") is not None:
        withdrawn = (f"{controller} withdrew this key on {_clip(str(method['revoked']), 40)}"
                     ", so nothing it signed can be trusted")
    return IssuerKey(key, controller, f"listed by {_clip(controller)}",
                     for_credentials=vm in listed, withdrawn=withdrawn)


def _find_method(vm: str, document: Mapping[str, Any]) -> Mapping[str, Any] | None:
    methods = document.get("verificationMethod")
    for method in methods if isinstance(methods, list) else [methods]:
        if isinstance(method, Mapping) and method.get("id") == vm:
            return method
    return None


def _method_key(method: Mapping[str, Any]) -> PublicKey:
    multibase = method.get("publicKeyMultibase")
    if method.get("type") in ("Multikey", "Ed25519VerificationKey2020") \
            and isinstance(multibase, str):
        return decode_multikey(multibase)
    jwk = method.get("publicKeyJwk")
    if method.get("type") == "JsonWebKey" and isinstance(jwk, Mapping):
        from lti_tool.badges.jwt_vc import public_key_from_jwk  # jwt_vc imports this module

        return public_key_from_jwk(jwk)
    raise BadgeError("the published key is of a kind this verifier does not read "
                     "(expected a Multikey or a JsonWebKey)")


def _fragment_key(fragment: str) -> PublicKey | None:
    if not fragment.startswith("z") or len(fragment) > 200:
        return None
    try:
        return decode_multikey(fragment)
    except BadgeError:
        return None


def _ask(resolver: KeyResolver | None, vm: str) -> IssuerKey | None:
    if resolver is None:
        return None
    return resolver(vm)


def _who(issuer_id: Any, issuer_name: str | None) -> str:
    if issuer_name:
        return _clip(issuer_name, 80)
    return _clip(str(issuer_id)) if issuer_id else "the issuer"


def _clip(text: str, size: int = 120) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


__all__ = ["Binding", "IssuerKey", "KeyResolver", "ResolvedKey", "check", "jwk_key",
           "key_from_controller_document", "resolve"]
