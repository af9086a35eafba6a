"""Open Badges 3.0 / CLR 2.0 credentials: build, sign, verify, bake, status lists.

A pure library (no Flask, no database, never the network):

* :mod:`.contexts`    bundled JSON-LD contexts and an offline PyLD document loader
* :mod:`.multikey`    Ed25519 / P-256 Multikey and ``did:key``
* :mod:`.eddsa`       Data Integrity ``eddsa-rdfc-2022`` proofs
* :mod:`.ecdsa_sd`    verification of ``ecdsa-sd-2023`` derived (selective disclosure) proofs
* :mod:`.jwt_vc`      VC-JWT (OB 3.0 §8.2 JSON Web Token Proof Format)
* :mod:`.baking`      PNG / SVG baking and extraction (OB 3.0 §5.3)
* :mod:`.status_list` W3C Bitstring Status List v1.0
* :mod:`.schemas`     the bundled 1EdTech JSON Schemas
* :mod:`.verify`      a step-by-step verifier for JSON, JWT, PNG and SVG input
* :mod:`.ob`          builders for MicroCred's OpenBadgeCredentials

Specs: https://www.imsglobal.org/spec/ob/v3p0/ , https://www.w3.org/TR/vc-data-model-2.0/ ,
https://www.w3.org/TR/vc-di-eddsa/ , https://www.w3.org/TR/vc-bitstring-status-list/
"""

from __future__ import annotations

from lti_tool.badges.errors import BadgeError

__all__ = ["BadgeError"]
