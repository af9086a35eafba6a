"""PLAR test helpers: a school whose continuing-education shell is a PLAR shell, a learner
who asks, an assessor assigned to the credential; and the request form submitted the way
the page's real form is (launch and CSRF tokens, field names)."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from lti_tool.models import PlarRequest
from lti_tool.services import plar as plar_service
from tests.support.learning import (
    CODETEACH,
    INSTRUCTOR,
    account_of,
    context_of,
    launch,
    make_issuer,
    python_catalog,
)

CONTINUING = {"context_kind": "continuing-ed"}
FOR_CREDIT = {"context_kind": "for-credit"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REQUIRED = ("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG")


def make_plar_school(app: Any, db: Any, platform: Any) -> dict[str, Any]:
    """Northern College, PLAR settings set; "Data Basics" (4 required skills, routes
    stand-alone and PLAR) not offered in the CE shell CODETEACH (a PLAR shell lists every
    PLAR credential); Sam (sub 4) launched there; Pat (sub 9) an instructor who assesses it."""
    issuer = make_issuer(db, platform)
    catalog, _fund = python_catalog(db, issuer)
    version = catalog.publish("DATA-B", "Data Basics", required=REQUIRED,
                              routes=("stand_alone", "plar"))
    issuer.settings = {**(issuer.settings or {}), "plar": {
        "policy": "Prior learning is assessed against the same criteria as in class.",
        "fee_note": "The assessment fee is $95 per micro-credential.",
        "turnaround_days": 15,
        "translations": {"fr": {"policy": "Les acquis sont évalués selon les mêmes "
                                          "critères qu'en classe."}}}}
    db.commit()
    sam = launch(app, platform, CODETEACH, sub="4", name="Sam Student",
                 email="sam@example.com", custom=CONTINUING)
    pat = launch(app, platform, CODETEACH, sub="9", name="Pat Assessor",
                 email="pat@example.edu", roles=[INSTRUCTOR], custom=CONTINUING)
    plar_service.grant_assessor(db, issuer_id=issuer.id, credential_id=version.credential_id,
                                account=account_of(db, platform, "9"), by=None)
    db.commit()
    return {"issuer": issuer, "catalog": catalog, "version": version, "sam": sam,
            "pat": pat, "codeteach": context_of(db, platform, "3")}


def post_form(person, form, **overrides):
    """Submit a page's real form as this person (with its launch and CSRF tokens)."""
    data = form.data()
    for name, value in overrides.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return person.client.post(form.action, data=data)


def skill_ids(school):
    return {code: school["catalog"].skills[code].id for code in REQUIRED}


def submit_request(school, *, narratives=None, files=None, **extra):
    sam = school["sam"]
    page = sam.page("/plar/new/DATA-B")
    form = page.form("/plar/new/DATA-B")
    data = form.data()
    ids = skill_ids(school)
    for code, sid in ids.items():
        data[f"narrative_{sid}"] = (narratives or {}).get(
            code, f"I used {code} every day for three years at my job.")
    data["link_url_0"] = "github.com/sam/data-work"
    data["link_title_0"] = "My scripts"
    for key, value in extra.items():
        data[key] = value
    data.setlist("files", files if files is not None else
                 [(io.BytesIO(PDF), "portfolio.pdf")])
    return sam.client.post(form.action, data=data, content_type="multipart/form-data")


def only_request(db) -> PlarRequest:
    db.expire_all()
    return db.scalars(select(PlarRequest)).one()


def decide(school, req, code, decision="demonstrated", method="portfolio_review",
            rationale="The portfolio shows it clearly."):
    pat = school["pat"]
    page = pat.page(f"/plar/assess/{req.id}")
    form = page.form("/decide", containing=str(school["catalog"].skills[code].id))
    return post_form(pat, form, decision=decision, method=method, rationale=rationale)
