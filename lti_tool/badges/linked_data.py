"""JSON-LD processing for credentials: expansion and conversion to RDF quads, offline, with
processed contexts cached, and with limits on what a document may ask of us.

PyLD (https://github.com/digitalbazaar/pyld) does the JSON-LD 1.1 work; two things are
added here:

* **Processed-context cache.** OB 3.0 contexts are type-scoped: every ``Achievement``,
  ``Alignment``, ``Evidence``, ``Profile``... node applies its own scoped context, which
  PyLD processes from scratch each time (a fresh clone of the active context defeats its
  per-context cache). Processing a context is a pure function of the active context, the
  local context and a few flags, so :class:`_CachingProcessor` remembers the result (the
  same immutable active-context object PyLD itself would share from its own cache). That
  halves the cost of canonicalizing a credential.
* **Limits before any work** (:func:`check_size`): a document may hold at most
  ``MAX_JSON_VALUES`` JSON values and its RDF form at most ``MAX_QUADS`` statements and
  ``MAX_BLANK_NODES`` blank nodes, so a padded or hostile document is refused in
  milliseconds instead of costing seconds of CPU.

Canonicalization itself (RDFC-1.0) is :mod:`lti_tool.badges.rdfc`.

Specs: https://www.w3.org/TR/json-ld11-api/#expansion-algorithm ,
https://www.w3.org/TR/json-ld11-api/#deserialize-json-ld-to-rdf-algorithm
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from pyld.jsonld import JsonLdProcessor

from lti_tool.badges import rdfc
from lti_tool.badges.contexts import document_loader, find_refused_context
from lti_tool.badges.errors import (
    BadgeError,
    CanonicalizationError,
    ContextNotAllowedError,
    TooComplexError,
)

#: The most JSON values (objects, arrays, strings, numbers...) a credential may have before
#: any JSON-LD processing. A MicroCred credential has ~250; a CLR with 40 credentials
#: ~8,000. Past this a document is refused (it would cost more than the 1 s budget).
MAX_JSON_VALUES = 12_000
#: The most RDF statements / blank nodes a document may turn into.
MAX_QUADS = 6_000
MAX_BLANK_NODES = 1_500
#: The most JSON-LD term definitions one expansion may process (~15 microseconds each). A
#: credential processes ~400 the first time its contexts are seen and none after (the
#: cache); nesting known contexts in odd orders at many depths (which defeats the cache)
#: would otherwise cost ~0.5 s per expansion.
MAX_TERM_DEFINITIONS = 3_000

_MEMO_SIZE = 512
#: active context id -> {(term, base): expanded IRI}
_iri_caches: dict[str, dict[tuple[str, Any], Any]] = {}
_IRI_CACHE_SIZE = 2048
_memo: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
_memo_lock = threading.Lock()


class _CachingProcessor(JsonLdProcessor):  # type: ignore[misc]
    """PyLD with processed contexts remembered across documents (see module docstring), and
    a cap on the term definitions one operation may process."""

    term_definitions = 0

    def _create_term_definition(self, *args: Any, **kwargs: Any) -> Any:
        self.term_definitions += 1
        if self.term_definitions > MAX_TERM_DEFINITIONS:
            raise TooComplexError(
                "the credential's contexts take too much JSON-LD work to process (more than "
                f"{MAX_TERM_DEFINITIONS:,} term definitions); it was not verified")
        return super()._create_term_definition(*args, **kwargs)

    def _process_context(self, active_ctx: dict[str, Any], local_ctx: Any,
                         options: dict[str, Any], override_protected: bool = False,
                         propagate: bool = True, validate_scoped: bool = True,
                         cycles: Any = None) -> Any:
        if "_uuid" not in active_ctx:
            active_ctx["_uuid"] = str(uuid.uuid4())
        # A context given by URL is identified by it; an inline one by identity (we keep a
        # reference, so the id cannot be reused by another object while cached).
        local_key = local_ctx if isinstance(local_ctx, str) else id(local_ctx)
        key = (active_ctx["_uuid"], local_key, override_protected, propagate,
               validate_scoped, options.get("base"), options.get("processingMode"))
        with _memo_lock:
            hit = _memo.get(key)
            if hit is not None:
                _memo.move_to_end(key)
        if hit is not None and hit[0] is local_ctx:
            return hit[1]
        result = super()._process_context(active_ctx, local_ctx, options, override_protected,
                                          propagate, validate_scoped, cycles)
        if isinstance(result, dict) and "_uuid" not in result:
            # a finished active context is never changed again (PyLD clones before it
            # defines terms), so it can carry an identity for the caches here
            result["_uuid"] = str(uuid.uuid4())
        with _memo_lock:
            _memo[key] = (local_ctx, result)
            while len(_memo) > _MEMO_SIZE:
                _memo.popitem(last=False)
        return result

    def _expand_iri(self, active_ctx: dict[str, Any], value: Any, base: Any = None,
                    vocab: bool = False, local_ctx: Any = None, defined: Any = None) -> Any:
        # Term and type expansion (vocab=True) outside context processing is a pure function
        # of the (immutable, identified) active context: remember it on the context itself.
        if not vocab or local_ctx is not None or "_uuid" not in active_ctx \
                or not isinstance(value, str):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        cache = _iri_caches.get(active_ctx["_uuid"])
        if cache is None:
            if len(_iri_caches) >= _MEMO_SIZE:
                _iri_caches.clear()  # rare: only hostile inline contexts churn through here
            cache = _iri_caches.setdefault(active_ctx["_uuid"], {})
        key = (value, base)
        try:
            return cache[key]
        except KeyError:
            pass
        expanded = super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        if len(cache) < _IRI_CACHE_SIZE:
            cache[key] = expanded
        return expanded


def _options(**extra: Any) -> dict[str, Any]:
    return {"documentLoader": document_loader, **extra}


def count_json_values(value: Any, limit: int) -> int:
    """How many JSON values ``value`` holds, counting stops just past ``limit``."""
    count = 0
    stack = [value]
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            return count
        if isinstance(node, Mapping):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def check_size(document: Any, *, max_values: int = MAX_JSON_VALUES) -> None:
    """Refuse a document too large to process within budget. Raises CanonicalizationError."""
    if count_json_values(document, max_values) > max_values:
        raise TooComplexError(
            f"the credential has more than {max_values:,} JSON values; that is far more than "
            "any genuine credential and more than this verifier processes")


def expand(document: Mapping[str, Any], *, base: str | None = None,
           on_property_dropped: Callable[[str | None], None] | None = None) -> Any:
    """JSON-LD expansion with bundled contexts only. Raises ContextNotAllowedError,
    CanonicalizationError."""
    check_size(document)
    processor = (_CachingProcessor(on_property_dropped=on_property_dropped)
                 if on_property_dropped else _CachingProcessor())
    options = _options(base=base) if base is not None else _options()
    try:
        return processor.expand(dict(document), options)
    except RecursionError as exc:
        raise CanonicalizationError("the document is nested too deeply") from exc
    except Exception as exc:  # PyLD raises JsonLdError and, on bad input, plain errors
        raise _translated(exc) from exc


def _term(node: Mapping[str, Any]) -> str:
    kind = node["type"]
    if kind == "IRI":
        return rdfc.iri(node["value"])
    if kind == "blank node":
        return str(node["value"])
    return rdfc.literal(node["value"], node.get("datatype"), node.get("language"))


def to_quads(document: Mapping[str, Any]) -> list[rdfc.Quad]:
    """The RDF dataset of a JSON-LD document (JSON-LD 1.1 "Deserialize JSON-LD to RDF").

    Raises ContextNotAllowedError for a context that is not bundled, CanonicalizationError
    when the document is not valid JSON-LD or exceeds the limits above.
    """
    check_size(document)
    try:
        dataset = _CachingProcessor().to_rdf(dict(document), _options())
    except RecursionError as exc:
        raise CanonicalizationError("the document is nested too deeply") from exc
    except Exception as exc:
        raise _translated(exc) from exc
    quads: list[rdfc.Quad] = []
    blank_nodes: set[str] = set()
    for graph_name, triples in dataset.items():
        graph = "" if graph_name == "@default" else (
            graph_name if graph_name.startswith("_:") else rdfc.iri(graph_name))
        if graph.startswith("_:"):
            blank_nodes.add(graph)
        for triple in triples:
            subject, obj = _term(triple["subject"]), _term(triple["object"])
            for term in (subject, obj):
                if term.startswith("_:"):
                    blank_nodes.add(term)
            quads.append((subject, rdfc.iri(triple["predicate"]["value"]), obj, graph))
        if len(quads) > MAX_QUADS:
            raise TooComplexError(
                f"the credential makes more than {MAX_QUADS:,} statements; more than this "
                "verifier processes")
    if len(blank_nodes) > MAX_BLANK_NODES:
        raise TooComplexError(
            f"the credential has more than {MAX_BLANK_NODES:,} unnamed nodes; more than this "
            "verifier processes")
    return quads


def _translated(exc: BaseException) -> BadgeError:
    cause: BaseException | None = exc
    while cause is not None:  # PyLD wraps what our hooks raise
        if isinstance(cause, TooComplexError):
            return cause
        cause = cause.__cause__ or getattr(cause, "cause", None)
    refused = find_refused_context(exc)
    if refused is not None:
        return ContextNotAllowedError(refused.url)
    return CanonicalizationError(f"the document is not valid JSON-LD: {pyld_reason(exc)}")


def pyld_reason(exc: BaseException) -> str:
    """A short, safe description of a PyLD error: its code and message (PyLD messages are
    fixed texts; anything else is only named by its kind)."""
    cause = exc
    # PyLD wraps errors ("Could not expand input...") around the one that says what failed
    while getattr(cause, "code", None) is None and cause.__cause__ is not None:
        cause = cause.__cause__
    code = getattr(cause, "code", None)
    if code is None:
        return "the document has an unexpected structure"
    message = cause.args[0] if cause.args and isinstance(cause.args[0], str) else ""
    message = (message.splitlines() or [""])[0][:200]
    return f"{code}: {message}" if message else str(code)


def canonical_nquads(document: Mapping[str, Any], *,
                     max_work: int = rdfc.DEFAULT_MAX_WORK) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document (bundled contexts only).

    Raises ContextNotAllowedError, CanonicalizationError (incl. PoisonedDatasetError).
    """
    return rdfc.canonicalize(to_quads(document), max_work=max_work).nquads


__all__ = ["MAX_BLANK_NODES", "MAX_JSON_VALUES", "MAX_QUADS", "MAX_TERM_DEFINITIONS",
           "canonical_nquads", "check_size", "count_json_values", "expand", "pyld_reason",
           "to_quads"]
