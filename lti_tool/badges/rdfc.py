"""RDF Dataset Canonicalization (RDFC-1.0), written for MicroCred, with a hard work cap.

https://www.w3.org/TR/rdf-canon/

Why our own and not PyLD's ``URDNA2015``:

* **Bounded cost.** RDFC-1.0 §"Dataset Poisoning" expects implementations to abort
  problematic inputs by default. PyLD has no limit: two symmetric stars of 8-9 blank nodes
  (a 10 KB credential) ran for 30 s. Here every call of Hash N-Degree Quads and every
  permutation it tries costs one unit of *work*; past ``max_work`` the algorithm stops at
  once with :class:`PoisonedDatasetError` (a counter, not a timer: the answer does not
  depend on how loaded the machine is, and no thread is left running).
* **Exact canonical N-Quads.** RDFC-1.0 §4.3 fixes the escaping (``\\b``, ``\\t``, ``\\n``,
  ``\\f``, ``\\r``, ``\\"``, ``\\\\`` and ``\\u00XX`` for other control characters); PyLD
  leaves ``\\b``, ``\\f`` and control characters raw.
* **Speed.** Terms are plain strings in their N-Quads form and the common case (every blank
  node told apart by its first-degree hash) is one pass.

Checked byte for byte against the W3C RDFC-1.0 test suite (``tests/unit/badges/rdfc10/``)
and against the OB 3.0 / CLR 2.0 eddsa-rdfc-2022 test vectors.

A dataset here is a list of quads ``(subject, predicate, object, graph)``; each term is its
canonical N-Quads text: ``<iri>``, ``_:label``, or a literal ``"..."`` with ``^^<datatype>``
or ``@lang``; ``graph`` is ``""`` for the default graph. :func:`literal` builds a literal
term, :func:`parse_nquads` reads N-Quads text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import permutations

from lti_tool.badges.errors import CanonicalizationError, TooComplexError

Quad = tuple[str, str, str, str]

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

#: Default work budget. Hash N-Degree Quads costs one unit per quad of the node it hashes,
#: and each permutation it tries one unit per blank node in it. Credentials whose blank
#: nodes all differ in their own statements need no work at all; the W3C suite's hardest
#: accepted tests (double circles of 10 nodes) need ~10,000; the poison clique of test074
#: would need billions. A unit costs about a microsecond, so the default keeps this part of
#: a verification far below 1 s of CPU.
DEFAULT_MAX_WORK = 20_000


class PoisonedDatasetError(TooComplexError):
    """The dataset needs more canonicalization work than allowed (RDFC-1.0 §"Dataset
    Poisoning"); nothing about it can be verified."""


# --- canonical N-Quads terms -----------------------------------------------------------

_ECHAR = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"',
          "\\": "\\\\"}
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f]')


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    return _ECHAR.get(char) or f"\\u{ord(char):04X}"


def escape_literal(value: str) -> str:
    """The lexical form as it appears between the quotes of a canonical N-Quads literal."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return _NEEDS_ESCAPE.sub(_escape_char, value)


def iri(value: str) -> str:
    return f"<{value}>"


def literal(value: str, datatype: str | None = None, language: str | None = None) -> str:
    """A literal term in canonical form (``xsd:string`` is written without a datatype)."""
    text = f'"{escape_literal(value)}"'
    if language:
        return f"{text}@{language}"
    if datatype and datatype != XSD_STRING:
        return f"{text}^^<{datatype}>"
    return text


def is_blank(term: str) -> bool:
    return term.startswith("_:")


def serialize(quad: Quad) -> str:
    subject, predicate, obj, graph = quad
    if graph:
        return f"{subject} {predicate} {obj} {graph} .\n"
    return f"{subject} {predicate} {obj} .\n"


# --- N-Quads input -----------------------------------------------------------------------

_UCHAR_OR_ECHAR = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|([tbnrf\"'\\]))")
_ECHAR_VALUES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'",
                 "\\": "\\"}
_IRI = r"<((?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*)>"
_PN = "A-Za-z0-9_\u00c0-\uffff"
_BNODE = rf"(_:[{_PN}](?:[{_PN}.\-\u00b7]*[{_PN}\-\u00b7])?)"
_LITERAL = (r'"((?:[^"\\\n\r]|\\.)*)"'
            r"(?:\^\^" + _IRI + r"|@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*))?")
_TERM = f"(?:{_IRI}|{_BNODE})"
_LINE = re.compile(
    rf"^\s*{_TERM}\s*{_IRI}\s*(?:{_IRI}|{_BNODE}|{_LITERAL})\s*(?:{_TERM})?\s*\.\s*(?:#.*)?$")


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        short, long, echar = match.groups()
        if echar is not None:
            return _ECHAR_VALUES[echar]
        return chr(int(short or long, 16))

    return _UCHAR_OR_ECHAR.sub(replace, text)


def parse_nquads(text: str) -> list[Quad]:
    """Quads from N-Quads text (one statement per line; comments and blank lines skipped).
    Duplicate statements collapse (a dataset is a set). Raises CanonicalizationError."""
    quads: dict[Quad, None] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise CanonicalizationError(f"N-Quads line {number} is not a statement")
        (s_iri, s_bnode, p_iri, o_iri, o_bnode, o_lex, o_dt, o_lang,
         g_iri, g_bnode) = match.groups()
        subject = iri(_unescape(s_iri)) if s_iri is not None else s_bnode
        if o_iri is not None:
            obj = iri(_unescape(o_iri))
        elif o_bnode is not None:
            obj = o_bnode
        else:
            obj = literal(_unescape(o_lex), _unescape(o_dt) if o_dt else None, o_lang)
        graph = iri(_unescape(g_iri)) if g_iri is not None else (g_bnode or "")
        quads[(subject, iri(_unescape(p_iri)), obj, graph)] = None
    return list(quads)


# --- the algorithm ----------------------------------------------------------------------


class IdentifierIssuer:
    """RDFC-1.0 §4.5 Issue Identifier: a prefix, a counter and the issued map, in order."""

    __slots__ = ("counter", "issued", "prefix")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.counter = 0
        self.issued: dict[str, str] = {}

    def issue(self, existing: str) -> str:
        issued = self.issued.get(existing)
        if issued is None:
            issued = f"{self.prefix}{self.counter}"
            self.counter += 1
            self.issued[existing] = issued
        return issued

    def copy(self) -> IdentifierIssuer:
        twin = IdentifierIssuer(self.prefix)
        twin.counter = self.counter
        twin.issued = dict(self.issued)
        return twin


@dataclass
class Canonicalized:
    """The result: canonical N-Quads text and the issued map (input label -> c14n label)."""

    nquads: str
    issued: dict[str, str]
    work: int = 0
    lines: list[str] = field(default_factory=list)


class _State:
    def __init__(self, quads: Sequence[Quad], hasher: Callable[[bytes], str],
                 max_work: int) -> None:
        self.quads = quads
        self.hash = hasher
        self.max_work = max_work
        self.work = 0
        self.mentions: dict[str, list[Quad]] = {}
        self.first_degree: dict[str, str] = {}
        self.canonical = IdentifierIssuer("c14n")
        for quad in quads:
            subject, _predicate, obj, graph = quad
            for term in (subject, obj, graph):
                if term.startswith("_:"):
                    bucket = self.mentions.setdefault(term[2:], [])
                    # a node mentioned twice in one quad (a self loop) lists the quad once
                    if not bucket or bucket[-1] is not quad:
                        bucket.append(quad)

    def spend(self, amount: int = 1) -> None:
        self.work += amount
        if self.work > self.max_work:
            raise PoisonedDatasetError(
                "the credential's blank nodes are too entangled to canonicalize within the "
                f"work limit ({self.max_work:,} steps); it was not verified")

    # §4.6 Hash First Degree Quads
    def hash_first_degree(self, label: str) -> str:
        cached = self.first_degree.get(label)
        if cached is not None:
            return cached
        reference = f"_:{label}"
        lines = []
        for subject, predicate, obj, graph in self.mentions[label]:
            if subject.startswith("_:"):
                subject = "_:a" if subject == reference else "_:z"
            if obj.startswith("_:"):
                obj = "_:a" if obj == reference else "_:z"
            if graph.startswith("_:"):
                graph = "_:a" if graph == reference else "_:z"
            lines.append(serialize((subject, predicate, obj, graph)))
        lines.sort()
        digest = self.hash("".join(lines).encode("utf-8"))
        self.first_degree[label] = digest
        return digest

    # §4.7 Hash Related Blank Node
    def hash_related(self, related: str, quad: Quad, issuer: IdentifierIssuer,
                     position: str) -> str:
        identifier = self.canonical.issued.get(related) or issuer.issued.get(related)
        if identifier is not None:
            identifier = f"_:{identifier}"
        else:
            identifier = self.hash_first_degree(related)
        predicate = quad[1] if position != "g" else ""
        return self.hash(f"{position}{predicate}{identifier}".encode())

    # §4.8 Hash N-Degree Quads
    def hash_n_degree(self, label: str, issuer: IdentifierIssuer
                      ) -> tuple[str, IdentifierIssuer]:
        self.spend(len(self.mentions[label]))
        related_by_hash: dict[str, list[str]] = {}
        reference = f"_:{label}"
        for quad in self.mentions[label]:
            subject, _predicate, obj, graph = quad
            for term, position in ((subject, "s"), (obj, "o"), (graph, "g")):
                if term.startswith("_:") and term != reference:
                    related = term[2:]
                    digest = self.hash_related(related, quad, issuer, position)
                    related_by_hash.setdefault(digest, []).append(related)
        data = []
        for related_hash in sorted(related_by_hash):
            data.append(related_hash)
            chosen_path = ""
            chosen_issuer: IdentifierIssuer | None = None
            for permutation in permutations(related_by_hash[related_hash]):
                self.spend(len(permutation))
                issuer_copy = issuer.copy()
                path = ""
                recursion: list[str] = []
                skip = False
                for related in permutation:
                    canonical = self.canonical.issued.get(related)
                    if canonical is not None:
                        path += f"_:{canonical}"
                    else:
                        if related not in issuer_copy.issued:
                            recursion.append(related)
                        path += f"_:{issuer_copy.issue(related)}"
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, issuer_copy_next = self.hash_n_degree(related, issuer_copy)
                    path += f"_:{issuer_copy.issue(related)}<{result_hash}>"
                    issuer_copy = issuer_copy_next
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path, chosen_issuer = path, issuer_copy
            data.append(chosen_path)
            if chosen_issuer is not None:
                issuer = chosen_issuer
        return self.hash("".join(data).encode("utf-8")), issuer

    # §4.4 Canonicalization
    def run(self) -> dict[str, str]:
        by_hash: dict[str, list[str]] = {}
        for label in self.mentions:
            by_hash.setdefault(self.hash_first_degree(label), []).append(label)
        shared = []
        for digest in sorted(by_hash):
            labels = by_hash[digest]
            if len(labels) == 1:
                self.canonical.issue(labels[0])
            else:
                shared.append(labels)
        for labels in shared:
            results = []
            for label in labels:
                if label in self.canonical.issued:
                    continue
                temporary = IdentifierIssuer("b")
                temporary.issue(label)
                results.append(self.hash_n_degree(label, temporary))
            for _digest, result_issuer in sorted(results, key=lambda r: r[0]):
                for existing in result_issuer.issued:
                    self.canonical.issue(existing)
        return self.canonical.issued


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hasher(algorithm: str) -> Callable[[bytes], str]:
    if algorithm == "sha256":
        return _sha256
    if algorithm in ("sha384", "sha512"):
        return lambda data: hashlib.new(algorithm, data).hexdigest()
    raise ValueError(f"unsupported hash algorithm {algorithm!r}")


def canonicalize(quads: Iterable[Quad], *, max_work: int = DEFAULT_MAX_WORK,
                 hash_algorithm: str = "sha256") -> Canonicalized:
    """RDFC-1.0 of a dataset: canonical N-Quads, code point ordered, one per line.

    Raises PoisonedDatasetError past ``max_work`` (see the module docstring).
    """
    dataset = list(dict.fromkeys(quads))
    state = _State(dataset, _hasher(hash_algorithm), max_work)
    issued = state.run() if state.mentions else {}
    lines = []
    for subject, predicate, obj, graph in dataset:
        if subject.startswith("_:"):
            subject = f"_:{issued[subject[2:]]}"
        if obj.startswith("_:"):
            obj = f"_:{issued[obj[2:]]}"
        if graph.startswith("_:"):
            graph = f"_:{issued[graph[2:]]}"
        lines.append(serialize((subject, predicate, obj, graph)))
    lines.sort()
    return Canonicalized("".join(lines), issued, state.work, lines)


__all__ = ["DEFAULT_MAX_WORK", "Canonicalized", "PoisonedDatasetError", "Quad",
           "canonicalize", "escape_literal", "iri", "is_blank", "literal", "parse_nquads",
           "serialize"]
