"""The flowchart's words follow the request's language; downloads are attachments that
cannot run script."""

from __future__ import annotations

from lti_tool.domain.flowchart import FlowGraph, FlowNode, render_svg
from lti_tool.web.common.flowchart import flow_strings, page_lang, png_download, svg_download


def graph(strings, lang):
    nodes = (FlowNode("a", "Soins", "", "credential", "earned", None, "fr"),
             FlowNode("t", "Certificat <PSW>", "", "target", None, None, "fr"))
    return FlowGraph("Parcours « soins » / PSW", nodes, (), (("a", "t", "leads_to"),),
                     lang=lang, strings=strings)


def test_words_in_french_for_a_french_request(base_app):
    with base_app.test_request_context("/?lang=fr"):
        strings = flow_strings()
        assert page_lang() == "fr"
        assert strings.earned == "Obtenue" and strings.target == "Objectif"
        svg = render_svg(graph(strings, page_lang()))
    assert ">Obtenue<" in svg and ">Mène à<" in svg and 'lang="fr"' in svg
    with base_app.test_request_context("/?lang=en"):
        assert flow_strings().earned == "Earned" and page_lang() == "en"


def test_downloads(base_app):
    with base_app.test_request_context("/?lang=en"):
        g = graph(flow_strings(), "en")
        svg = svg_download(g)
        png = png_download(g)
    assert svg.mimetype == "image/svg+xml"
    assert svg.headers["Content-Disposition"] == 'attachment; filename="parcours-soins-psw.svg"'
    assert "default-src 'none'" in svg.headers["Content-Security-Policy"]
    body = svg.get_data(as_text=True)
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "Certificat &lt;PSW&gt;" in body
    assert png.mimetype == "image/png" and png.get_data().startswith(b"\x89PNG")
    assert png.headers["Content-Disposition"].endswith('.png"')


def test_the_page_macro_shows_picture_downloads_and_words(base_app):
    from lti_tool.web.common.flowchart import flowchart_markup

    with base_app.test_request_context("/?lang=fr"):
        g = graph(flow_strings(), page_lang())
        svg, text = flowchart_markup(g, id_prefix="p7")
        template = base_app.jinja_env.from_string(
            '{% from "_flowchart.html" import flowchart %}'
            '{{ flowchart(svg, text, "Parcours", id="p7", svg_url="/x.svg", png_url="/x.png") }}')
        html = template.render(svg=svg, text=text)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'id="p7-title"' in html
    assert "Certificat &lt;PSW&gt;" in html and "<PSW>" not in html
    assert '<ol class="flow-text">' in html and "Le schéma en mots" in html
    assert 'href="/x.svg" download' in html and "Image PNG" in html
    assert 'role="region" tabindex="0" aria-labelledby="p7-caption"' in html


def test_png_without_cairo_is_refused_with_a_way_out(base_app, monkeypatch):
    """A server without cairosvg (or its libcairo): a 503 naming the SVG download, not a 500."""
    import sys

    import pytest

    from lti_tool.web.common.flowchart import PictureUnavailable

    monkeypatch.setitem(sys.modules, "cairosvg", None)  # import cairosvg → ImportError
    with base_app.test_request_context("/?lang=fr"):
        g = graph(flow_strings(), "fr")
        with pytest.raises(PictureUnavailable) as refused:
            png_download(g)
    assert refused.value.status_code == 503
    assert "SVG" in refused.value.public_message
