"""A badge PNG drawn locally for baking (OB 3.0 §5.3 "Baking": the image that carries the
credential). The catalog's image is a URL on some other host: fetching it at download
time would let catalog data make the server reach an arbitrary host, so MicroCred never
does; it draws a clean, square badge with the credential's title and the issuer's name.
The text alternative travels separately (the credential's ``image.caption`` and the
pages' ``alt``).

Pillow draws it; its bundled scalable font is used when FreeType is available, its bitmap
font otherwise. Deterministic for the same input (same bytes), so downloads are cacheable.
"""

from __future__ import annotations

import io
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from lti_tool.domain.credential_words import words

SIZE = 512
BRAND = (29, 78, 137)       # --brand of app.css
RING = (255, 191, 71)       # --focus (the yellow accent)
INK = (255, 255, 255)
FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def _font(size: int) -> FontType:
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError, TypeError):  # no FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: FontType, width: int,
          max_lines: int) -> list[str]:
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(".") + "…"
    # A single word wider than the line is cut rather than drawn off the badge.
    fitted = []
    for line in lines:
        while draw.textlength(line, font=font) > width and len(line) > 2:
            line = line[:-2] + "…"
        fitted.append(line)
    return fitted


def _centered(draw: ImageDraw.ImageDraw, lines: list[str], font: FontType, top: float,
              line_height: int) -> None:
    for index, line in enumerate(lines):
        width = draw.textlength(line, font=font)
        draw.text(((SIZE - width) / 2, top + index * line_height), line, font=font, fill=INK)


def badge_png(title: str, issuer_name: str, lang: str = "en") -> bytes:
    """A 512 x 512 PNG badge showing ``title`` and ``issuer_name`` (not yet baked), with
    its fixed word in ``lang`` (the credential's language: "MICROCERTIFICATION" in
    French)."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, SIZE - 8, SIZE - 8), fill=RING)
    draw.ellipse((28, 28, SIZE - 28, SIZE - 28), fill=BRAND)
    draw.ellipse((44, 44, SIZE - 44, SIZE - 44), outline=INK, width=3)
    title_font, small_font = _font(40), _font(24)
    title_lines = _wrap(draw, " ".join(title.split()) or words(lang, "untitled"), title_font,
                        330, 4)
    issuer_lines = _wrap(draw, " ".join(issuer_name.split()), small_font, 300, 2)
    title_height = 48 * len(title_lines)
    top = (SIZE - title_height) / 2 - 20
    _centered(draw, title_lines, title_font, top, 48)
    draw.line((176, top + title_height + 14, SIZE - 176, top + title_height + 14), fill=RING,
              width=4)
    _centered(draw, issuer_lines, small_font, top + title_height + 30, 30)
    _centered(draw, [words(lang, "badge_word")], _font(18), 88, 22)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
