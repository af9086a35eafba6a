"""What anyone on the web may read about an issuer's pathways: published ones only (drafts,
versions in review and retired versions are NotFound, like an unknown code), described from
the snapshot frozen at publication.

``pathway_json`` is the one description that the public page (HTML), its JSON (content
negotiation), the API and the learner pages render, so they never differ. Texts are given
in English with their French translations beside them (``translations``); pages pick one
with ``domain.texts.localized``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.domain.pathways import (
    Articulation,
    GroupRule,
    PathwayProgress,
    PathwaySpec,
    Step,
    describe_versions,
    step_hours,
)
from lti_tool.errors import NotFound
from lti_tool.models import Issuer, MicroCredential
from lti_tool.services import pathways
from lti_tool.services.pathways import PublishedPathway
from lti_tool.services.public_catalog import credential_url, http_url, issuer_json

FORMAT = "microcred-pathway"


def pathway_url(base_url: str, issuer: Issuer, code: str) -> str:
    return f"{base_url}/c/{issuer.slug}/pathways/{code}"


def decimal_text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() \
        else str(value.normalize())


def articulation_json(art: Articulation) -> dict[str, Any]:
    return {"credit_bearing": art.credit_bearing, "credits": decimal_text(art.credits),
            "hours": decimal_text(art.hours), "credit_system": art.credit_system,
            "courses": [{"code": c.code, "title": c.title, "relation": c.relation}
                        for c in art.courses],
            "transfer_notes": art.transfer_notes}


def _title_translations(spec: PathwaySpec, code: str) -> dict[str, Any]:
    fr = spec.step_titles_fr.get(code)
    return {"fr": {"title": fr}} if fr else {}


def _step_json(step: Step, issuer: Issuer, base_url: str,
               spec: PathwaySpec | None = None) -> dict[str, Any]:
    return {"credential": step.credential, "title": step.title or step.credential,
            "translations": _title_translations(spec, step.credential) if spec else {},
            "url": credential_url(base_url, issuer, step.credential),
            "versions": list(step.versions), "versions_text": describe_versions(step),
            "hours": decimal_text(step_hours(step)),
            "credits": decimal_text(step.articulation.credits),
            "articulation": articulation_json(step.articulation)}


def pathway_json(issuer: Issuer, pathway: PublishedPathway, base_url: str,
                 progress: PathwayProgress | None = None) -> dict[str, Any]:
    """The machine-readable description of a published pathway (with a learner's progress
    when given: per step ``status``, per group ``satisfied`` and ``have``)."""
    spec: PathwaySpec = pathway.spec
    groups = []
    for gi, group in enumerate(spec.groups):
        steps = [_step_json(s, issuer, base_url, spec) for s in group.steps]
        entry: dict[str, Any] = {
            "key": group.key, "title": group.title, "rule": group.rule.value,
            "minimum": decimal_text(group.minimum) if group.rule is not GroupRule.ALL else None,
            "needed": decimal_text(group.needed), "steps": steps}
        if progress is not None:
            gp = progress.groups[gi]
            entry["satisfied"] = gp.satisfied
            entry["have"] = decimal_text(gp.have)
            for step_data, sp in zip(steps, gp.steps, strict=True):
                step_data["status"] = sp.status.value
                if sp.note:
                    step_data["note"] = sp.note
        groups.append(entry)
    target: dict[str, Any] = {"credential": None, "external": None}
    if spec.target_credential:
        target["credential"] = {"code": spec.target_credential,
                                "title": spec.target_title or spec.target_credential,
                                "translations": _title_translations(spec,
                                                                    spec.target_credential),
                                "url": credential_url(base_url, issuer,
                                                      spec.target_credential)}
    if spec.external is not None:
        target["external"] = {"name": spec.external.name,
                              "institution": spec.external.institution,
                              "grants": spec.external.grants,
                              "url": http_url(spec.external.url)}
    steps_all = spec.steps
    data: dict[str, Any] = {
        "format": FORMAT,
        "url": pathway_url(base_url, issuer, pathway.code),
        "code": pathway.code, "version": pathway.version,
        "title": spec.title, "description": spec.description,
        "translations": {lang: dict(texts) for lang, texts in spec.translations.items()},
        "target": target,
        "articulation": articulation_json(spec.articulation),
        "credit_bearing": spec.articulation.credit_bearing or any(
            s.articulation.credit_bearing for s in steps_all),
        "totals": {"steps": len(steps_all),
                   "credits": decimal_text(sum((s.credits for s in steps_all), Decimal(0))),
                   "hours": decimal_text(sum((step_hours(s) for s in steps_all), Decimal(0)))},
        "groups": groups,
        "order": [{"before": a, "after": b} for a, b in spec.order],
        "issuer": issuer_json(issuer, base_url),
    }
    if progress is not None:
        data["progress"] = progress_json(progress)
    return data


def progress_json(progress: PathwayProgress) -> dict[str, Any]:
    return {"complete": progress.complete, "steps_earned": progress.steps_earned,
            "steps_total": progress.steps_total,
            "credits_earned": decimal_text(progress.credits_earned),
            "hours_earned": decimal_text(progress.hours_earned),
            "courses": [{"code": c.code, "title": c.title, "relation": c.relation}
                        for c in progress.courses],
            "next_steps": [s.credential for s in progress.next_steps]}


def public_pathway(session: Session, issuer: Issuer, code: str) -> PublishedPathway:
    """Raises NotFound (also for a draft, in-review or retired pathway)."""
    found = pathways.published_pathway(session, issuer.id, code)
    if found is None:
        raise NotFound("No published pathway has this address.")
    return found


def summaries(session: Session, issuer: Issuer, credential_id: int,
              base_url: str) -> list[dict[str, Any]]:
    """The published pathways a credential is a step or the target of (for its pages),
    with what it is worth as a step there (``step``: credits, hours, courses, the versions
    that count)."""
    result = []
    for p in pathways.pathways_with_credential(session, issuer.id, [credential_id]):
        spec = p.spec
        role = "target" if p.target_credential_id == credential_id else "step"
        item: dict[str, Any] = {
            "code": p.code, "title": spec.title, "translations": dict(spec.translations),
            "url": pathway_url(base_url, issuer, p.code), "role": role,
            "target": spec.target_title or (spec.external.name if spec.external else ""),
            "steps": len(spec.steps), "step": None}
        if role == "step":
            code = session.get(MicroCredential, credential_id)
            found = next((s for s in spec.steps if code and s.credential == code.code), None)
            if found is not None:
                item["step"] = _step_json(found, issuer, base_url)
        result.append(item)
    return result


def catalog_json(session: Session, issuer: Issuer, base_url: str) -> list[dict[str, Any]]:
    return [{"code": p.code, "title": p.spec.title, "description": p.spec.description,
             "translations": dict(p.spec.translations),
             "url": pathway_url(base_url, issuer, p.code), "steps": len(p.spec.steps),
             "target": p.spec.target_title or (p.spec.external.name
                                               if p.spec.external else "")}
            for p in pathways.published_pathways(session, issuer.id)]


def localize(data: dict[str, Any], locale: str) -> dict[str, Any]:
    """For an HTML page in ``locale``: the step and target titles as ``LocalText``
    (``title_text``; French where the credential has it, else English marked). Call after
    the JSON was sent or not: it adds values JSON cannot carry."""
    from lti_tool.domain.texts import localized

    for group in data["groups"]:
        for step in group["steps"]:
            step["title_text"] = localized(step["title"], step.get("translations"), "title",
                                           locale)
    credential = data["target"].get("credential")
    if credential:
        credential["title_text"] = localized(credential["title"],
                                             credential.get("translations"), "title", locale)
    return data
