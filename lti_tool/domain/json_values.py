"""Reading Open Badges / JSON-LD documents as plain JSON: a property that may hold one value
or a list of them, and a node's types. Shared by the verifier (``badges/verify.py``) and the
transfer of external credentials (``domain/transfer.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def as_list(value: Any) -> list[Any]:
    """``value`` as a list: [] for None, the list itself, or a one-item list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def node_types(node: Any) -> list[str]:
    """The strings of a node's ``type`` ([] when it is not an object)."""
    if not isinstance(node, Mapping):
        return []
    return [t for t in as_list(node.get("type")) if isinstance(t, str)]
