"""The pathway form: HTML fields ↔ PathwayInputSchema's shape, and the service's field
errors mapped back onto the form's fields.

Groups and their steps are rows of fields named ``g<i>-<field>`` and ``g<i>-s<j>-<field>``;
the whole pathway's course credits ``c<i>-<field>``. Buttons "Add a step" (``add_step`` =
the group's index) and "Add a group" (``add_group``) give the same form back with one more
empty row, nothing saved: the form works without JavaScript. Empty rows are ignored; each
row of the input remembers which form row it came from, so an error lands on its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

Errors = dict[str, list[str]]
STEP_FIELDS = ("credential", "versions", "credits", "hours", "course_code", "course_title",
               "relation", "notes")
GROUP_FIELDS = ("key", "title", "rule", "minimum")
COURSE_FIELDS = ("code", "title", "relation")
MAX_GROUPS = 20
MAX_STEPS = 60
MAX_COURSES = 20


def _clean(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _blank_step() -> dict[str, str]:
    return {f: "" for f in STEP_FIELDS} | {"relation": "exempts"}


def _blank_group(n: int) -> dict[str, Any]:
    return {"key": f"group-{n + 1}", "title": "", "rule": "all", "minimum": "",
            "steps": [_blank_step(), _blank_step()]}


def _blank_course() -> dict[str, str]:
    return {"code": "", "title": "", "relation": "exempts"}


def pathway_form(values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The form's values from PathwayInputSchema-shaped content (or a new, empty form)."""
    v = dict(values or {})
    target = v.get("target") or {}
    ext = target.get("external") or {}
    art = v.get("articulation") or {}
    fr = (v.get("translations") or {}).get("fr") or {}
    groups = []
    for g in v.get("groups") or []:
        steps = []
        for s in g.get("steps") or []:
            sa = s.get("articulation") or {}
            course = (sa.get("courses") or [{}])[0]
            steps.append({"credential": _clean(s.get("credential")),
                          "versions": ", ".join(str(x) for x in s.get("versions") or []),
                          "credits": _clean(sa.get("credits")), "hours": _clean(sa.get("hours")),
                          "course_code": _clean(course.get("code")),
                          "course_title": _clean(course.get("title")),
                          "relation": _clean(course.get("relation")) or "exempts",
                          "notes": _clean(sa.get("transfer_notes"))})
        steps.append(_blank_step())
        groups.append({"key": _clean(g.get("key")), "title": _clean(g.get("title")),
                       "rule": _clean(g.get("rule")) or "all",
                       "minimum": _clean(g.get("minimum")), "steps": steps})
    if not groups:
        groups.append(_blank_group(0))
    courses = [{"code": _clean(c.get("code")), "title": _clean(c.get("title")),
                "relation": _clean(c.get("relation")) or "exempts"}
               for c in art.get("courses") or []]
    courses.append(_blank_course())
    return {
        "code": _clean(v.get("code")), "title": _clean(v.get("title")),
        "description": _clean(v.get("description")),
        "title_fr": _clean(fr.get("title")), "description_fr": _clean(fr.get("description")),
        "target_credential": _clean(target.get("credential")),
        "ext_name": _clean(ext.get("name")), "ext_institution": _clean(ext.get("institution")),
        "ext_grants": _clean(ext.get("grants")), "ext_url": _clean(ext.get("url")),
        "credit_bearing": bool(art.get("credit_bearing")),
        "credits": _clean(art.get("credits")), "credit_system": _clean(art.get("credit_system")),
        "transfer_notes": _clean(art.get("transfer_notes")), "courses": courses,
        "groups": groups,
        "order": "\n".join(f"{a} -> {b}" for a, b in v.get("order") or []),
    }


def _count(posted: MultiDict[str, str], name: str, limit: int) -> int:
    raw = posted.get(name, "")
    return min(int(raw), limit) if raw.isdigit() else 0


def pathway_form_from_post(posted: MultiDict[str, str]) -> dict[str, Any]:
    """The form as posted (with one more row when an "Add" button was pressed)."""
    form: dict[str, Any] = {k: _clean(posted.get(k)) for k in (
        "code", "title", "description", "title_fr", "description_fr", "target_credential",
        "ext_name", "ext_institution", "ext_grants", "ext_url", "credits", "credit_system",
        "transfer_notes", "order")}
    form["credit_bearing"] = posted.get("credit_bearing") == "1"
    form["courses"] = [{f: _clean(posted.get(f"c{i}-{f}")) for f in COURSE_FIELDS}
                       for i in range(_count(posted, "courses", MAX_COURSES))]
    groups: list[dict[str, Any]] = []
    for i in range(_count(posted, "groups", MAX_GROUPS)):
        steps = [{f: _clean(posted.get(f"g{i}-s{j}-{f}")) for f in STEP_FIELDS}
                 for j in range(_count(posted, f"g{i}-steps", MAX_STEPS))]
        groups.append({**{f: _clean(posted.get(f"g{i}-{f}")) for f in GROUP_FIELDS},
                       "steps": steps})
    add_step = posted.get("add_step", "")
    if add_step.isdigit() and int(add_step) < len(groups) and \
            len(groups[int(add_step)]["steps"]) < MAX_STEPS:
        groups[int(add_step)]["steps"].append(_blank_step())
    if "add_group" in posted and len(groups) < MAX_GROUPS:
        groups.append(_blank_group(len(groups)))
    if "add_course" in posted and len(form["courses"]) < MAX_COURSES:
        form["courses"].append(_blank_course())
    form["groups"] = groups or [_blank_group(0)]
    if not form["courses"]:
        form["courses"] = [_blank_course()]
    return form


def adding_rows(posted: MultiDict[str, str]) -> bool:
    return any(k in posted for k in ("add_step", "add_group", "add_course"))


def _decimal_or_none(text: str) -> str | None:
    return text or None


def pathway_input(form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """PathwayInputSchema-shaped input from the form, and where each input path came from
    (``groups.0.steps.1`` → ``g2-s3``: empty rows are left out)."""
    where: dict[str, str] = {}
    groups: list[dict[str, Any]] = []
    for gi, g in enumerate(form["groups"]):
        steps: list[dict[str, Any]] = []
        for si, s in enumerate(g["steps"]):
            if not s.get("credential"):
                continue
            where[f"groups.{len(groups)}.steps.{len(steps)}"] = f"g{gi}-s{si}"
            articulation: dict[str, Any] = {}
            if s.get("credits"):
                articulation.update(credit_bearing=True, credits=s["credits"])
            if s.get("hours"):
                articulation["hours"] = s["hours"]
            if s.get("course_code"):
                articulation["courses"] = [{"code": s["course_code"],
                                            "title": s.get("course_title", ""),
                                            "relation": s.get("relation") or "exempts"}]
            if s.get("notes"):
                articulation["transfer_notes"] = s["notes"]
            versions: list[Any] = []
            for part in s.get("versions", "").replace(";", ",").split(","):
                part = part.strip()
                if part:
                    versions.append(int(part) if part.isdigit() else part)
            steps.append({"credential": s["credential"], "versions": versions,
                          "articulation": articulation})
        empty = not steps and not g.get("title")
        if empty and len(form["groups"]) > 1:
            continue
        where[f"groups.{len(groups)}"] = f"g{gi}"
        groups.append({"key": g.get("key") or f"group-{gi + 1}", "title": g.get("title", ""),
                       "rule": g.get("rule") or "all",
                       "minimum": _decimal_or_none(g.get("minimum", ""))
                       if g.get("rule") != "all" else None,
                       "steps": steps})
    order = []
    for line in str(form.get("order", "")).splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("→", "->").split("->")]
        order.append(parts)
    courses = [c for c in form["courses"] if c.get("code")]
    target: dict[str, Any] = {"credential": form.get("target_credential") or None}
    if form.get("ext_name") or form.get("ext_institution") or form.get("ext_grants"):
        target["external"] = {"name": form.get("ext_name", ""),
                              "institution": form.get("ext_institution", ""),
                              "grants": form.get("ext_grants", ""),
                              "url": form.get("ext_url", "")}
    translations = {"fr": {k: v for k, v in (("title", form.get("title_fr", "")),
                                             ("description", form.get("description_fr", "")))
                           if v}}
    data = {
        "code": form.get("code", ""), "title": form.get("title", ""),
        "description": form.get("description", ""), "target": target,
        "articulation": {"credit_bearing": bool(form.get("credit_bearing")),
                         "credits": _decimal_or_none(form.get("credits", "")),
                         "credit_system": form.get("credit_system", ""),
                         "courses": [{"code": c["code"], "title": c.get("title", ""),
                                      "relation": c.get("relation") or "exempts"}
                                     for c in courses],
                         "transfer_notes": form.get("transfer_notes", "")},
        "groups": groups, "order": order,
        "translations": translations if translations["fr"] else {},
    }
    return data, where


_TOP = {"code": "code", "title": "title", "description": "description",
        "target.credential": "target_credential", "target": "target_credential",
        "target.external.name": "ext_name", "target.external.institution": "ext_institution",
        "target.external.grants": "ext_grants", "target.external.url": "ext_url",
        "articulation.credits": "credits", "articulation.credit_system": "credit_system",
        "articulation.transfer_notes": "transfer_notes",
        "articulation.credit_bearing": "credits",
        "translations.fr.title": "title_fr", "translations.fr.description": "description_fr",
        "groups": "groups", "order": "order"}
_STEP = {"credential": "credential", "versions": "versions",
         "articulation.credits": "credits", "articulation.hours": "hours",
         "articulation.courses.0.code": "course_code",
         "articulation.courses.0.title": "course_title",
         "articulation.transfer_notes": "notes", "articulation": "credits"}


def pathway_errors(raw: Errors, where: Mapping[str, str]) -> Errors:
    """The service's errors ("groups.0.steps.1.credential") on the form's fields."""
    out: Errors = {}
    for key, messages in raw.items():
        name = _TOP.get(key)
        if name is None and key.startswith("order"):
            name = "order"
        elif name is None and key.startswith("articulation.courses."):
            parts = key.split(".")
            name = f"c{parts[2]}-{parts[3] if len(parts) > 3 else 'code'}"
        elif name is None and key.startswith("groups."):
            parts = key.split(".")
            if len(parts) >= 4 and parts[2] == "steps":
                row = where.get(".".join(parts[:4]))
                rest = parts[4:]
                field = next((_STEP[".".join(rest[:n])] for n in range(len(rest), 0, -1)
                              if ".".join(rest[:n]) in _STEP), "credential")
                name = f"{row}-{field}" if row else "groups"
            else:
                row = where.get(".".join(parts[:2]))
                field = parts[2] if len(parts) > 2 and parts[2] in GROUP_FIELDS else "title"
                if len(parts) > 2 and parts[2] == "steps":
                    field = "title"
                name = f"{row}-{field}" if row else "groups"
        out.setdefault(name or "_form", []).extend(messages)
    return out


def error_label(name: str) -> str:
    labels = {"code": "Code", "title": "Title", "description": "Description",
              "title_fr": "Title in French", "description_fr": "Description in French",
              "target_credential": "Program credential awarded",
              "ext_name": "External program", "ext_institution": "Institution",
              "ext_grants": "What completion grants there", "ext_url": "Program web page",
              "credits": "Credits", "credit_system": "Credit system",
              "transfer_notes": "Transfer notes", "order": "Order", "groups": "Groups",
              "_form": "Form"}
    if name in labels:
        return labels[name]
    parts = name.split("-", 2)
    if len(parts) >= 2 and parts[0].startswith("g") and parts[1].startswith("s"):
        return f"Group {int(parts[0][1:]) + 1}, step {int(parts[1][1:]) + 1}"
    if parts[0].startswith("g") and parts[0][1:].isdigit():
        return f"Group {int(parts[0][1:]) + 1}"
    if parts[0].startswith("c") and parts[0][1:].isdigit():
        return f"Course credit {int(parts[0][1:]) + 1}"
    return name
