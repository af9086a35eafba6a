"""The administration pages speak the launch's language: an institution administrator
launched with ``launch_presentation.locale`` ``fr-CA`` reads every admin page in Canadian
French (``<html lang="fr-CA">``, French dates and numbers, no English sentence left in the
page's own text), and one launched with ``en-US`` reads the same pages in English.

The check compares the two renderings of each page: a piece of text that is the same in both
is either data (names, titles, codes entered in English by the catalog's authors) or a word
that French and English share; anything else is a string left untranslated."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from lti_tool.domain.catalog import DEFAULT_RUBRIC, Scope
from lti_tool.domain.lti import CLAIM_LAUNCH_PRESENTATION, CLAIM_ROLES
from lti_tool.models import CredentialVersion, MicroCredential, Skill
from tests.support.admin import (
    INSTITUTION_ADMIN,
    INSTRUCTOR,
    Page,
    Person,
    credential_fields,
    make_issuer,
)
from tests.support.learning import second_platform
from tests.support.lti import full_launch
from tests.support.platform import moodle_fixture, query_of

FIXTURE = "instructor_claims_INTROPROG.json"

#: Text that is the same in both languages because it is data the test put in, names of
#: products and standards, or words French and English share.
DATA = ("Northern College", "Variables and types", "Functions", "Loops and iteration",
        "Python foundations", "Intro to Python", "Registrar sync", "Avery Admin",
        "Blake Board", "Camille Côté", "Dana Doe", "Moodle test", "MicroCred", "Moodle",
        "Canvas", "LTI", "Advantage", "JSON", "CSV", "JWKS", "UTC", "API", "REST", "URI",
        "URL", "CE-",
        *(scope.value for scope in Scope), "Authorization: Bearer",
        "lis_person_sourcedid", "context_kind", "PY-VAR", "PY-FUNC", "PY-LOOP", "PYFOUND",
        "Instructure", "Developer Keys", "Enter URL", "Keyset URL", "canvas.instructure.com",
        "example.edu", "moodle.college.ca", "Dynamic Registration",
        # the credential's content (tests.support.admin.credential_fields), in English
        "Write, test and debug small Python programs.", "Line one.", "Line two.",
        "Write programs with variables and types", "Use control flow",
        "Write and call functions",
        "Each skill is demonstrated on a short programming task.",
        "Ontario college credits", "Entry-level scripting.", "Junior developer",
        "Computer science", "Introductory", "python", "programming", "Clear.",
        # language names, each written in its own language
        "English", "Français",
        # Open Badges alignment target types (codes)
        "CFItem", "CFRubricCriterionLevel", "CFRubricCriterion", "CFRubric", "CTDL",
        "ceasn:Competency", "ceterms:Credential", "ceterms:Occupation", "ESCO")
SHARED_WORDS = {"description", "code", "codes", "version", "versions", "actions", "permissions",
                "position", "image", "type", "types", "page", "pages", "portfolio",
                "observation", "institution", "notes", "message", "messages", "rubric",
                "client", "key", "keys", "json", "csv", "dec", "utc"}


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Text(HTMLParser):
    """Visible text and the attributes read aloud, of one part of a page; not what the
    fields of a form hold (stored content, shown as stored), nor codes (identifiers), nor
    what the page itself marks as English (``lang="en"``: the catalog's English content)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._open: list[tuple[str, bool]] = []  # (tag, skipped inside)

    def _skipping(self) -> bool:
        return any(skip for _tag, skip in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        skip = tag in ("script", "style", "textarea", "code") or found.get("lang") == "en"
        if not self._skipping() and not skip:
            for name in ("aria-label", "title", "alt", "placeholder"):
                if found.get(name):
                    self.pieces.append(str(found[name]))
        if tag not in VOID:
            self._open.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        if not self._skipping() and data.strip():
            self.pieces.append(" ".join(data.split()))


def _admin_text(html: str) -> set[str]:
    """The title and the main region (the admin pages' own text; the LMS header around them
    is the launch pages' own)."""
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    main = re.search(r"<main\b.*?</main>", html, re.S)
    assert main, html[:300]
    parser = _Text()
    parser.feed((title.group(0) if title else "") + main.group(0))
    return set(parser.pieces)


def _english_left(piece: str) -> bool:
    rest = re.sub(r"https?://\S+|\S+@\S+|mc_\w+", " ", piece)
    for data in DATA:
        rest = rest.replace(data, " ")
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'\u2019-]{2,}", rest)]
    return any(w not in SHARED_WORDS for w in words)


def _lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, html[:200]
    return match.group(1)


def _launch(app, platform, locale: str, sub: str, name: str,
            roles: list[str] | None = None) -> Person:
    presentation = dict(moodle_fixture(FIXTURE).get(CLAIM_LAUNCH_PRESENTATION, {}))
    presentation["locale"] = locale
    client = app.test_client()
    given, _, family = name.partition(" ")
    response = full_launch(client, platform, FIXTURE, sub=sub, name=name, given_name=given,
                           family_name=family, email=f"{sub}@example.edu",
                           **{CLAIM_ROLES: roles or [INSTITUTION_ADMIN],
                              CLAIM_LAUNCH_PRESENTATION: presentation})
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    return Person(client, query_of(response.headers["Location"])["lt"], sub)


def _act(person: Person, path: str, action: str) -> None:
    page = person.page(path)
    response = person.submit(page.form("/transition", containing=action))
    if action in ("publish", "retire"):
        response = person.submit(Page(response).form("/transition", containing=action))
    assert response.status_code == 303, response.get_data(as_text=True)[:600]


@pytest.fixture()
def world(app, platform, db):
    """A catalog built in English by Avery: three skills (one unused), a micro-credential
    whose version 1 Blake reviewed (approved with scores) and Avery published, version 2
    changed and waiting for review; an API token; Blake granted the reviewer role."""
    make_issuer(db, platform)
    avery = _launch(app, platform, "en-US", "admin-1", "Avery Admin",
                    [INSTITUTION_ADMIN, INSTRUCTOR])
    blake = _launch(app, platform, "en-US", "admin-2", "Blake Board")
    for code, name in (("PY-VAR", "Variables and types"), ("PY-FUNC", "Functions"),
                       ("PY-LOOP", "Loops and iteration")):
        form = avery.page("/admin/skills/new").form("/admin/skills/new")
        assert avery.submit(form, code=code, name=name).status_code == 303
    form = avery.page("/admin/credentials/new").form("/admin/credentials/new")
    response = avery.submit(form, **credential_fields(
        code="PYFOUND", title="Python foundations", required_skills=["PY-VAR", "PY-FUNC"],
        notional_hours="12.5", credit_bearing="1", credit_value="0.5",
        credit_system="Ontario college credits", expiry_months="36"))
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    path = response.headers["Location"].split("?")[0]
    _act(avery, path, "submit")
    version = db.scalars(select(CredentialVersion)).one()
    review = blake.page(f"/admin/versions/{version.id}/review")
    values = {f"level-{i}": "met" for i in range(len(DEFAULT_RUBRIC))}
    values.update({"level-0": "exemplary", "decision": "approve", "comment-0": "Clear."})
    assert blake.submit(review.form("/review"), **values).status_code == 303
    _act(avery, path, "publish")
    page = avery.page(path)
    assert avery.submit(page.form("/new-version")).status_code == 303
    db.expire_all()
    draft = db.scalars(select(CredentialVersion).where(CredentialVersion.version == 2)).one()
    edit = avery.page(f"/admin/versions/{draft.id}/edit")
    assert avery.submit(edit.form("/edit"), title="Intro to Python",
                        notional_hours="14").status_code == 303
    _act(avery, path, "submit")
    tokens = avery.page("/admin/tokens")
    assert avery.submit(tokens.form("/admin/tokens", containing="catalog:read"),
                        name="Registrar sync",
                        expires="90").status_code == 201
    roles = avery.page("/admin/roles")
    account = next(v for v in roles.form("/admin/roles").options["account"] if v)
    assert avery.submit(roles.form("/admin/roles"), account=account,
                        role="reviewer").status_code == 303
    db.expire_all()
    credential = db.scalars(select(MicroCredential)).one()
    skills = {s.code: s.id for s in db.scalars(select(Skill))}
    in_review = db.scalars(select(CredentialVersion)
                           .where(CredentialVersion.version == 2)).one()
    return {"credential": credential.id, "skills": skills, "in_review": in_review.id,
            "in_review_rv": in_review.row_version}


def _pages(world: dict) -> list[tuple[str, dict[str, str]]]:
    credential, skills, review = world["credential"], world["skills"], world["in_review"]
    return [("/admin", {}), ("/admin", {"q": "python"}), ("/admin/skills", {}),
            ("/admin/skills", {"q": "zzz"}), (f"/admin/skills/{skills['PY-LOOP']}/delete", {}),
            (f"/admin/skills/{skills['PY-VAR']}/delete", {}),
            (f"/admin/credentials/{credential}", {}),
            (f"/admin/credentials/{credential}", {"v": "1"}),
            (f"/admin/credentials/{credential}/diff", {"a": "1", "b": "2"}),
            (f"/admin/credentials/{credential}/diff", {"a": "2", "b": "2"}),
            (f"/admin/versions/{review}/edit", {}), ("/admin/reviews", {}),
            (f"/admin/versions/{review}/review", {}), ("/admin/rubric", {}),
            ("/admin/roles", {}), ("/admin/roles", {"q": "nobody"}), ("/admin/settings", {}),
            ("/admin/tokens", {}), ("/admin/platforms", {}), ("/admin/identity", {}),
            ("/admin/io", {}), ("/admin/issuer", {}), ("/admin/occupations", {}),
            (f"/admin/skills/{skills['PY-VAR']}/edit", {}), ("/admin/credentials/new", {}),
            ("/admin/plar", {})]


def _compare(french: Page, english: Page, where: str) -> None:
    assert french.status == english.status, where
    assert _lang(french.html) == "fr-CA", where
    assert _lang(english.html) == "en", where
    same = _admin_text(french.html) & _admin_text(english.html)
    left = sorted(p for p in same if _english_left(p))
    assert not left, f"{where}: English left in the French page: {left}"


def test_every_admin_page_speaks_the_launch_language(app, platform, db, world) -> None:
    camille = _launch(app, platform, "fr-CA", "admin-3", "Camille Côté")
    dana = _launch(app, platform, "en-US", "admin-4", "Dana Doe")
    for path, params in _pages(world):
        french, english = camille.page(path, **params), dana.page(path, **params)
        assert french.status == 200, (path, french.text[:400])
        _compare(french, english, f"{path} {params}")
    home = camille.page("/admin")
    assert "Catalogue de microcertifications" in home.text
    assert "1 version attend une révision" in home.text
    # a title without its French text: shown in English, marked as such
    assert '<span lang="en">Intro to Python</span> <span class="lang-fallback"' in home.html
    assert "Intro to Python (en anglais)" in home.text
    credential = camille.page(f"/admin/credentials/{world['credential']}", v="1")
    # numbers and dates in French: 12,5 hours, 0,5 credit, "6 déc. 2026, 18 h 53 UTC"
    assert "12,5 heures" in credential.text
    # the preview is the catalog's English text, marked as such inside the French page
    assert 'class="preview-title" lang="en">Python foundations<' in credential.html
    assert "La description ci-dessous est le texte anglais du catalogue." in credential.text
    assert 'lang="en"' not in dana.page(f"/admin/credentials/{world['credential']}",
                                        v="1").html.split("<main", 1)[1]
    assert re.search(r"\d{1,2} [a-zéû]+\.? \d{4}, \d{1,2} h \d{2} UTC", credential.text)
    # the rubric's seeded criteria and lenses read in French; scores too
    assert "Structure et conditions d'admission" in credential.text
    assert "Exemplaire" in credential.text
    # a diff marks the catalog's English texts, not the names of choices or numbers
    diff = camille.page(f"/admin/credentials/{world['credential']}/diff", a="1", b="2")
    assert '<td class="before" lang="en">' in diff.html
    assert "14" in diff.text and "12,5" in diff.text
    rubric = camille.page("/admin/rubric")
    assert "Objectifs et normes pédagogiques" in rubric.text
    assert "Rigueur de l'évaluation" in rubric.text
    # English readers get the seeded English
    assert "Rigour of assessment" in dana.page("/admin/rubric").text


def test_confirmations_notices_and_errors_in_french(app, platform, db, world) -> None:
    camille = _launch(app, platform, "fr-CA", "admin-3", "Camille Côté")
    dana = _launch(app, platform, "en-US", "admin-4", "Dana Doe")
    credential = world["credential"]
    # publishing asks first (v1 is published, so retire it: the other irreversible action)
    asked = []
    for person in (camille, dana):
        page = person.page(f"/admin/credentials/{credential}", v="1")
        asked.append(Page(person.submit(page.form("/transition", containing="retire"))))
    _compare(asked[0], asked[1], "retire confirmation")
    assert "Cette action est irréversible" in asked[0].text
    assert "Retirer « Python foundations », version 1?" in asked[0].text.replace("\u00a0", " ")

    # a success notice, from the done code
    notices = camille.page("/admin/tokens", done="token_revoked")
    assert "Le jeton d'API a été révoqué. Il ne fonctionne plus." in notices.text

    # field errors, the error summary and a refused import, in both languages
    posts = []
    for person in (camille, dana):
        review = person.page(f"/admin/versions/{world['in_review']}/review")
        answer = Page(person.submit(review.form("/review"), decision="reject"))
        rubric = person.page("/admin/rubric")
        bad = Page(person.submit(rubric.form("/admin/rubric"), **{"rubric-0-key": "Bad Key!",
                                                                   "rubric-1-title": ""}))
        io = person.page("/admin/io")
        upload = Page(person.submit(io.form("/admin/io"), mode="check"))
        tokens = person.page("/admin/tokens")
        create = next(f for f in tokens.forms if f.action.split("?")[0].endswith("/tokens"))
        token = Page(person.submit(create, name="", scopes=[]))
        posts.append((answer, bad, upload, token))
    for (fr, en), where in zip(zip(*posts, strict=True), ("review", "rubric", "io", "tokens"),
                               strict=True):
        assert fr.status == en.status == 422, (where, fr.status, en.status)
        _compare(fr, en, where)
    review_fr, rubric_fr, io_fr, _token_fr = posts[0]
    assert "Il y a 11 problèmes" in review_fr.text
    assert "Choisissez un niveau pour ce critère." in review_fr.field_error("level-0")
    assert "Expliquez ce qui doit changer" in review_fr.field_error("comment")
    assert "Utilisez de 1 à 50 lettres minuscules" in rubric_fr.field_error("rubric-0-key")
    assert "Choisissez un fichier à téléverser." in io_fr.text


def test_a_refused_transition_explains_itself_in_french(app, platform, db, world) -> None:
    camille = _launch(app, platform, "fr-CA", "admin-3", "Camille Côté")
    credential = world["credential"]
    # a stale page: the version moved on (v2 is in review; "withdraw" from an old copy)
    page = camille.page(f"/admin/credentials/{credential}")
    form = page.form("/transition", containing="withdraw")
    assert camille.submit(form).status_code == 303
    again = Page(camille.submit(form))
    assert again.status == 409
    assert _lang(again.html) == "fr-CA"
    assert "Cette action n'a pas eu lieu" in again.text
    assert "Seule une version en révision peut être retirée de la révision." in again.text \
        or "Quelqu'un d'autre a enregistré ces données entre-temps." in again.text


def test_setup_page_in_french(app, db, transport) -> None:
    from tests.support.platform import TestPlatform

    lonely = second_platform(db, transport)
    assert isinstance(lonely, TestPlatform)
    camille = _launch(app, lonely, "fr_CA", "admin-9", "Camille Côté")
    dana = _launch(app, lonely, "en", "admin-8", "Dana Doe")
    french, english = camille.page("/admin"), dana.page("/admin")
    assert french.status == english.status == 200
    _compare(french, english, "setup")
    assert "Configurer votre établissement" in french.text
