"""Baking OB 3.0 credentials into PNG and SVG badge images, and extracting them.

https://www.imsglobal.org/spec/ob/v3p0/#baking

* PNG: one ``iTXt`` chunk with keyword ``openbadgecredential``, uncompressed, whose text
  is the credential JSON or its compact JWS; inserted before ``IEND``
  (https://www.w3.org/TR/png/#11iTXt). Extraction checks chunk CRCs and refuses images
  with no such chunk or with several.
* SVG: an ``<openbadges:credential>`` element (namespace
  ``https://purl.imsglobal.org/ob/v3p0``) right inside the root ``<svg>``, holding the JSON
  in CDATA or the JWS in a ``verify`` attribute. Extraction parses with defusedxml (no
  entity expansion, no external DTD/entities, size and depth limits) and never renders;
  scripts are reported, never run.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from lti_tool.badges.errors import BakingError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"openbadgecredential"
OB2_PNG_KEYWORD = b"openbadges"
OB_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
OB2_NAMESPACE = "http://openbadges.org"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_TEXT_BYTES = 2 * 1024 * 1024
MAX_XML_DEPTH = 256
MAX_XML_ELEMENTS = 100_000


@dataclass
class ExtractedCredential:
    """What a baked image holds: JSON text or a compact JWS, plus notes for the report."""

    payload: str
    kind: Literal["json", "jwt"]
    notes: list[str] = field(default_factory=list)


def _payload_kind(text: str) -> Literal["json", "jwt"]:
    return "json" if text.lstrip().startswith("{") else "jwt"


def _credential_text(credential: Mapping[str, Any] | str) -> str:
    if isinstance(credential, str):
        return credential.strip()
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))


# --- PNG ------------------------------------------------------------------------------


@dataclass
class _Chunk:
    type: bytes
    data: bytes


def _png_chunks(data: bytes) -> list[_Chunk]:
    if not data.startswith(PNG_SIGNATURE):
        raise BakingError("not a PNG image (bad signature)")
    chunks: list[_Chunk] = []
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        if pos + 12 > len(data):
            raise BakingError("PNG is truncated (incomplete chunk header)")
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        chunk_type = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if length > len(data) or end > len(data):
            raise BakingError("PNG is truncated (chunk longer than the file)")
        if not chunk_type.isalpha():
            raise BakingError("PNG has an invalid chunk type")
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:end])
        if zlib.crc32(chunk_type + body) & 0xFFFFFFFF != crc:
            raise BakingError(f"PNG chunk {chunk_type.decode('ascii')} has a bad CRC "
                              "(the file is corrupted)")
        chunks.append(_Chunk(chunk_type, body))
        pos = end
        if chunk_type == b"IEND":
            break
    if not chunks or chunks[0].type != b"IHDR" or chunks[-1].type != b"IEND":
        raise BakingError("PNG is malformed (must start with IHDR and end with IEND)")
    return chunks


def _chunk_bytes(chunk_type: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(chunk_type + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + chunk_type + body + struct.pack(">I", crc)


def _itxt_keyword(body: bytes) -> bytes:
    return body.split(b"\0", 1)[0]


def _parse_itxt(body: bytes) -> str:
    """Text of an iTXt chunk: keyword\\0 flag method lang\\0 translated\\0 text."""
    try:
        _keyword, rest = body.split(b"\0", 1)
        compressed, method = rest[0], rest[1]
        _language, _translated, text = rest[2:].split(b"\0", 2)
    except (ValueError, IndexError) as exc:
        raise BakingError("the openbadgecredential iTXt chunk is malformed") from exc
    if compressed:
        if method != 0:
            raise BakingError("the openbadgecredential iTXt chunk uses an unknown compression")
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, MAX_TEXT_BYTES)
        except zlib.error as exc:
            raise BakingError("the openbadgecredential iTXt chunk does not decompress") from exc
        if inflater.unconsumed_tail:
            raise BakingError("the openbadgecredential iTXt chunk is too large")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BakingError("the openbadgecredential iTXt text is not UTF-8") from exc


def bake_png(image: bytes, credential: Mapping[str, Any] | str) -> bytes:
    """``image`` with one ``openbadgecredential`` iTXt chunk (replacing any earlier one)."""
    chunks = _png_chunks(image)
    text = _credential_text(credential).encode("utf-8")
    body = PNG_KEYWORD + b"\0" + b"\0\0" + b"\0" + b"\0" + text
    out = bytearray(PNG_SIGNATURE)
    for chunk in chunks:
        if chunk.type == b"iTXt" and _itxt_keyword(chunk.data) == PNG_KEYWORD:
            continue
        if chunk.type == b"IEND":
            out += _chunk_bytes(b"iTXt", body)
        out += _chunk_bytes(chunk.type, chunk.data)
    return bytes(out)


def extract_png(image: bytes) -> ExtractedCredential:
    """The credential baked into a PNG. Raises BakingError with the reason."""
    if len(image) > MAX_IMAGE_BYTES:
        raise BakingError("PNG is larger than the 2 MB limit")
    chunks = _png_chunks(image)
    found = [c for c in chunks if c.type == b"iTXt" and _itxt_keyword(c.data) == PNG_KEYWORD]
    if not found:
        if any(c.type in (b"iTXt", b"tEXt") and _itxt_keyword(c.data) == OB2_PNG_KEYWORD
               for c in chunks):
            raise BakingError("this PNG holds an Open Badges 2.0 assertion (keyword "
                              "'openbadges'), not an OB 3.0 credential")
        raise BakingError("PNG has no 'openbadgecredential' iTXt chunk: it is not a baked "
                          "Open Badges 3.0 image")
    if len(found) > 1:
        raise BakingError(f"PNG has {len(found)} 'openbadgecredential' iTXt chunks; a baked "
                          "image must hold exactly one credential")
    text = _parse_itxt(found[0].data).strip()
    if not text:
        raise BakingError("the openbadgecredential iTXt chunk is empty")
    return ExtractedCredential(text, _payload_kind(text))


# --- SVG ------------------------------------------------------------------------------


_ROOT_START = re.compile(r"<svg\b", re.IGNORECASE)


def _root_start_tag_end(svg: str) -> int:
    """Index just after the root ``<svg ...>`` start tag (quotes respected)."""
    match = _ROOT_START.search(svg)
    if match is None:
        raise BakingError("no <svg> root element")
    quote: str | None = None
    for index in range(match.end(), len(svg)):
        char = svg[index]
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == ">":
            if svg[index - 1] == "/":
                raise BakingError("the <svg> root element is empty")
            return index + 1
    raise BakingError("the <svg> start tag is not closed")


def bake_svg(svg: bytes | str, credential: Mapping[str, Any] | str) -> bytes:
    """``svg`` with an ``<openbadges:credential>`` element as the root's first child.

    JSON goes in CDATA, a compact JWS in the ``verify`` attribute. Refuses SVGs that
    already hold a credential.
    """
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    inspect_svg(text.encode("utf-8"))  # well-formed and safe before we edit it
    if _find_credentials_fast(text):
        raise BakingError("SVG already contains an openbadges:credential element")
    payload = _credential_text(credential)
    if _payload_kind(payload) == "json":
        cdata = payload.replace("]]>", "]]]]><![CDATA[>")
        element = f"<openbadges:credential><![CDATA[{cdata}]]></openbadges:credential>"
    else:
        if not re.fullmatch(r"[A-Za-z0-9_\-.]+", payload):
            raise BakingError("a JWT to bake must be a compact JWS")
        element = f'<openbadges:credential verify="{payload}"/>'
    end = _root_start_tag_end(text)
    start_tag = text[:end]
    if f'xmlns:openbadges="{OB_NAMESPACE}"' not in start_tag:
        if "xmlns:openbadges=" in start_tag:
            raise BakingError("SVG binds the 'openbadges' prefix to another namespace")
        insert_at = end - 1
        start_tag = text[:insert_at] + f' xmlns:openbadges="{OB_NAMESPACE}"' + text[insert_at:end]
    return (start_tag + element + text[end:]).encode("utf-8")


def _find_credentials_fast(text: str) -> bool:
    return "openbadges:credential" in text


class _SvgScan:
    """ElementTree parser target: finds credential elements and script, limits depth."""

    def __init__(self) -> None:
        self.depth = 0
        self.elements = 0
        self.root: str | None = None
        self.credentials: list[tuple[dict[str, str], list[str]]] = []
        self.ob2 = False
        self.script = False
        self._capture: list[str] | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        if self.depth > MAX_XML_DEPTH:
            raise BakingError(f"SVG is nested deeper than {MAX_XML_DEPTH} elements")
        if self.elements > MAX_XML_ELEMENTS:
            raise BakingError("SVG has too many elements")
        if self.root is None:
            self.root = tag
        local = tag.rsplit("}", 1)[-1].lower()
        if local == "script" or local == "foreignobject":
            self.script = True
        if any(name.rsplit("}", 1)[-1].lower().startswith("on") for name in attrib) or any(
                value.strip().lower().startswith("javascript:") for value in attrib.values()):
            self.script = True
        if tag == f"{{{OB_NAMESPACE}}}credential":
            self._capture = []
            self.credentials.append((dict(attrib), self._capture))
        elif tag.startswith(f"{{{OB2_NAMESPACE}}}"):
            self.ob2 = True

    def end(self, tag: str) -> None:
        self.depth -= 1
        if tag == f"{{{OB_NAMESPACE}}}credential":
            self._capture = None

    def data(self, text: str) -> None:
        if self._capture is not None:
            self._capture.append(text)

    def close(self) -> None:
        return None


def inspect_svg(svg: bytes) -> _SvgScan:
    if len(svg) > MAX_IMAGE_BYTES:
        raise BakingError("SVG is larger than the 2 MB limit")
    scan = _SvgScan()
    # forbid_dtd stays False: badge SVGs commonly carry the public SVG 1.1 DOCTYPE (the
    # 1EdTech samples do). Entity declarations and external references are refused.
    parser = DefusedXMLParser(target=scan, forbid_dtd=False, forbid_entities=True,
                              forbid_external=True)
    try:
        parser.feed(svg)
        parser.close()
    except BakingError:
        raise
    except DefusedXmlException as exc:
        raise BakingError("SVG declares XML entities or external references; refused "
                          f"({type(exc).__name__})") from exc
    except RecursionError as exc:
        raise BakingError("SVG is nested too deeply") from exc
    except Exception as exc:  # expat ParseError and friends
        raise BakingError(f"SVG is not well-formed XML: {str(exc)[:120]}") from exc
    if scan.root != f"{{{SVG_NAMESPACE}}}svg":
        raise BakingError("not an SVG image (root element is not <svg> in the SVG namespace)")
    return scan


def extract_svg(svg: bytes) -> ExtractedCredential:
    """The credential baked into an SVG. Raises BakingError with the reason."""
    scan = inspect_svg(svg)
    notes = ["SVG contains script; not rendered"] if scan.script else []
    if not scan.credentials:
        if scan.ob2:
            raise BakingError("this SVG holds an Open Badges 2.0 assertion, not an OB 3.0 "
                              "credential")
        raise BakingError("SVG has no <openbadges:credential> element in the "
                          f"{OB_NAMESPACE} namespace: it is not a baked OB 3.0 image")
    if len(scan.credentials) > 1:
        raise BakingError(f"SVG has {len(scan.credentials)} <openbadges:credential> elements; "
                          "a baked image must hold exactly one credential")
    attrib, texts = scan.credentials[0]
    verify = attrib.get("verify")
    text = "".join(texts).strip()
    if verify is not None:
        if text:
            notes.append("openbadges:credential has both a verify attribute and content; "
                         "the verify attribute (JWT) is used")
        return ExtractedCredential(verify.strip(), "jwt", notes)
    if not text:
        raise BakingError("the <openbadges:credential> element is empty")
    return ExtractedCredential(text, _payload_kind(text), notes)
