"""Flowcharts on pages: the translated words of ``domain.flowchart`` and the download
responses (SVG, PNG) shared by the pathway pages."""

from __future__ import annotations

import re

from flask import Response
from flask_babel import gettext as _
from markupsafe import Markup

from lti_tool.domain.flowchart import (
    FlowGraph,
    FlowStrings,
    render_png,
    render_svg,
    text_alternative_html,
)
from lti_tool.errors import ToolError
from lti_tool.i18n import current_short
from lti_tool.translate import lazy_gettext as _l


def flow_strings() -> FlowStrings:
    """The words of a flowchart in the request's language."""
    return FlowStrings(
        earned=_("Earned"),
        in_progress=_("In progress"),
        not_started=_("Not started"),
        status=_("Status: {status}"),
        target=_("Goal"),
        external=_("External program"),
        comes_after=_("Comes after: {items}"),
        comes_before=_("Must be completed before: {items}"),
        leads_to=_("Leads to: {items}"),
        legend_precedes=_("Must be completed before"),
        legend_leads_to=_("Leads to"),
        description=_("A flowchart of the pathway, read from top to bottom. "
                      "The list after it says the same in words."),
        separator=_("; "),
    )


def page_lang() -> str:
    """``en`` / ``fr``: the language the graph's words are in (FlowGraph.lang)."""
    return current_short()


def _filename(title: str, extension: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()[:60] or "flowchart"
    return f"{stem}.{extension}"


def svg_download(graph: FlowGraph) -> Response:
    """The flowchart as an SVG file (attachment)."""
    response = Response(render_svg(graph, standalone=True), mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_filename(graph.title, "svg")}"')
    # An SVG opened on its own may carry links: never let it run script.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


class PictureUnavailable(ToolError):
    status_code = 503
    code = "png_unavailable"
    title = _l("Picture unavailable")
    public_message = _l("This server cannot draw PNG pictures right now. Download the "
                        "flowchart as SVG instead: it prints and opens in every browser.")


def png_download(graph: FlowGraph) -> Response:
    """The flowchart as a PNG picture (attachment). Without the Cairo library on the server
    (Debian: libcairo2) the PNG is refused with a page pointing to the SVG download."""
    try:
        png = render_png(graph)
    except (ImportError, OSError) as exc:  # no cairosvg, or it could not load libcairo
        raise PictureUnavailable(log_detail=f"cairo unavailable: {exc}") from None
    response = Response(png, mimetype="image/png")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_filename(graph.title, "png")}"')
    return response


def flowchart_markup(graph: FlowGraph, *, id_prefix: str = "flow") -> tuple[Markup, Markup]:
    """(the SVG, the text alternative) ready for ``templates/_flowchart.html``. Every text
    in both is escaped by ``domain.flowchart``, so the SVG may be marked safe."""
    svg = Markup(render_svg(graph, id_prefix=id_prefix))  # noqa: S704 - escaped by render_svg
    return svg, text_alternative_html(graph)
