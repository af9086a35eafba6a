"""Pathways where learners and staff meet them inside the LMS (issue 12): the learner's
progress on the pathways their credentials belong to, and, for instructors, where the
course's offered credentials lead. Both render ``templates/learner/_pathways.html`` with
``services.public_pathways.pathway_json`` (the description the public page uses), so the
LMS and the public page say the same."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.flowchart import FlowGraph
from lti_tool.domain.pathway_graph import EXTERNAL_ID, TARGET_ID, pathway_graph
from lti_tool.domain.pathways import (
    Group,
    GroupRule,
    PathwayProgress,
    PathwaySpec,
    Step,
    step_hours,
)
from lti_tool.domain.texts import localized
from lti_tool.i18n import current_locale, format_decimal
from lti_tool.models import Issuer, MicroCredential
from lti_tool.services import pathways, public_pathways
from lti_tool.services.pathways import PublishedPathway
from lti_tool.services.public_catalog import credential_url, http_url


def _localize(data: dict[str, Any]) -> dict[str, Any]:
    locale = current_locale()
    public_pathways.localize(data, locale)
    data["title_text"] = localized(data["title"], data["translations"], "title", locale)
    data["description_text"] = localized(data["description"], data["translations"],
                                         "description", locale)
    return data


def learner_pathways(session: Session, issuer: Issuer | None, person_id: int,
                     offered_codes: Iterable[str]) -> list[dict[str, Any]]:
    """The issuer's published pathways this learner has started (a step earned or in
    progress) or that a credential offered in this course (``offered_codes``) belongs to,
    with their progress; started ones first."""
    if issuer is None:
        return []
    # Every published pathway first: an issuer without any (most) costs one query.
    progress = pathways.progress_for_person(session, person_id, issuer.id)
    if not progress:
        return []
    base = current_app.config["PUBLIC_BASE_URL"]
    codes = list(offered_codes)
    offered = set(session.scalars(select(MicroCredential.id).where(
        MicroCredential.issuer_id == issuer.id, MicroCredential.code.in_(codes)))) \
        if codes else set()
    related = {p.version_id for p in pathways.pathways_with_credential(
        session, issuer.id, offered)} if offered else set()
    result = []
    for lp in progress:
        if not (lp.progress.started or lp.progress.complete or
                lp.pathway.version_id in related):
            continue
        data = _localize(public_pathways.pathway_json(issuer, lp.pathway, base, lp.progress))
        data["_pathway"] = lp
        result.append(data)
    result.sort(key=lambda p: (not p["progress"]["steps_earned"], p["title"]))
    for i, data in enumerate(result, 1):
        lp = data.pop("_pathway")
        data["flowchart"] = flowchart(issuer, lp.pathway, lp.progress, id_prefix=f"pwf{i}")
    return result


def course_pathways(session: Session, issuer: Issuer | None,
                    credential_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Published pathways the course's offered credentials belong to (no learner)."""
    if issuer is None:
        return []
    base = current_app.config["PUBLIC_BASE_URL"]
    result = []
    for i, p in enumerate(pathways.pathways_with_credential(session, issuer.id,
                                                           credential_ids), 1):
        data = _localize(public_pathways.pathway_json(issuer, p, base))
        data["flowchart"] = flowchart(issuer, p, id_prefix=f"pwf{i}")
        result.append(data)
    return result


# -- flowcharts ---------------------------------------------------------------------------
def _num(value: Decimal | None) -> str:
    return format_decimal(value) if value is not None else ""


def group_label(group: Group) -> str:
    """"Choose 2 of 3" in the page's language (the flowchart's cluster label)."""
    n = len(group.steps)
    if group.rule is GroupRule.ALL:
        return str(ngettext("This one", "All %(num)s of these", n))
    if group.rule is GroupRule.CHOOSE:
        return str(_("Choose %(k)s of %(n)s", k=_num(group.minimum), n=n))
    if group.rule is GroupRule.CREDITS:
        return str(_("At least %(n)s credits from these", n=_num(group.minimum)))
    return str(_("At least %(n)s hours from these", n=_num(group.minimum)))


def step_details(step: Step) -> str:
    parts = []
    hours = step_hours(step)
    if hours:
        parts.append(str(_("%(n)s hours", n=_num(hours))))
    if step.articulation.credit_bearing and step.articulation.credits:
        parts.append(str(_("%(n)s credits", n=_num(step.articulation.credits))))
    for course in step.articulation.courses:
        word = _("exempts from") if course.relation == "exempts" else _("counts toward")
        parts.append(f"{word} {course.code}")
    return " · ".join(parts)


def flowchart(issuer: Issuer, pathway: PublishedPathway,
              progress: PathwayProgress | None = None, *,
              id_prefix: str = "flow", downloads: bool = True) -> dict[str, Any]:
    """The pathway's flowchart for a page: ``svg`` and ``text`` (its text alternative)
    from ``web.common.flowchart``, the ``title``, and the download URLs (of the public,
    published pathway; none for a preview with ``downloads=False``)."""
    from flask import url_for

    from lti_tool.web.common.flowchart import flow_strings, flowchart_markup, page_lang

    spec = pathway.spec
    base = current_app.config["PUBLIC_BASE_URL"]
    hrefs = {code: credential_url(base, issuer, code) for code in spec.step_codes}
    if spec.target_credential:
        hrefs[TARGET_ID] = credential_url(base, issuer, spec.target_credential)
    if spec.external is not None and http_url(spec.external.url):
        hrefs[EXTERNAL_ID] = http_url(spec.external.url)
    lang = page_lang()
    title = localized(spec.title, spec.translations, "title", lang).text
    graph = pathway_graph(spec, title=title, progress=progress, hrefs=hrefs,
                          step_titles=step_title_map(spec, lang),
                          group_label=group_label, step_details=step_details,
                          external_details=spec.external.grants if spec.external else "",
                          lang=lang, strings=flow_strings())
    svg, text = flowchart_markup(graph, id_prefix=id_prefix)
    query: dict[str, Any] = {"lang": lang} if lang != "en" else {}
    if not downloads:
        return {"svg": svg, "text": text, "title": title, "svg_url": "", "png_url": ""}
    return {"svg": svg, "text": text, "title": title,
            "svg_url": url_for("public_catalog.pathway_flowchart", issuer_slug=issuer.slug,
                               code=pathway.code, fmt="svg", **query),
            "png_url": url_for("public_catalog.pathway_flowchart", issuer_slug=issuer.slug,
                               code=pathway.code, fmt="png", **query)}


def step_title_map(spec: PathwaySpec, lang: str) -> dict[str, str]:
    """Step and target titles in ``lang`` when the snapshot has them (``title_fr``)."""
    titles = dict(spec.step_titles_fr) if lang == "fr" else {}
    return {k: v for k, v in titles.items() if v}


def graph_for_download(issuer: Issuer, pathway: PublishedPathway) -> FlowGraph:
    """The public flowchart (no learner) for the SVG and PNG downloads."""
    from lti_tool.web.common.flowchart import flow_strings, page_lang

    spec = pathway.spec
    base = current_app.config["PUBLIC_BASE_URL"]
    lang = page_lang()
    hrefs = {code: credential_url(base, issuer, code) for code in spec.step_codes}
    return pathway_graph(spec, title=localized(spec.title, spec.translations, "title",
                                               lang).text,
                         hrefs=hrefs, step_titles=step_title_map(spec, lang),
                         group_label=group_label, step_details=step_details,
                         external_details=spec.external.grants if spec.external else "",
                         lang=lang, strings=flow_strings())
