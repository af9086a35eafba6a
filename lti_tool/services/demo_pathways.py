"""Demo pathways (issue 12) for the sandbox's Lakeshore College, with their French texts.
Names, hours, credits and course numbers are invented.

- PSW-PATH "Personal Support Worker micro-credential pathway": four micro-credentials, each
  with its hours and the certificate course it exempts from, into the "Personal Support
  Worker — Ontario College Certificate" program (a one-page overview in the manner of the
  colleges' PSW laddering charts);
- PY-PATH "Python programming pathway": Python Programming Fundamentals (version 2 counts)
  then two of three applications, into the "Applied Python" program credential, awarded
  automatically and worth credit toward the diploma course PROG-2150;
- LEAD-PATH "Workplace Leadership Certificate": a broad-area certificate whose steps come
  from communication, facilitation and human relations (one of two, then at least 40 hours
  of three), into the "Workplace Leadership" program credential.

Everything goes through the services (validation, review by a second person, publication)
like the rest of the demo; ``seed`` adds what is missing and changes nothing that exists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Action, Scope
from lti_tool.models import Issuer, MicroCredential, Pathway, Skill
from lti_tool.services import catalog, pathways
from lti_tool.services.catalog import Actor

HEALTH = ("demo:grace.okafor", "Grace Okafor, School of Health Sciences")
PROGRAMS = ("demo:priya.raman", "Priya Raman, Program Development")
REVIEWER = ("demo:marc.lefebvre", "Marc Lefebvre, Academic Quality Office")


def _skill(code: str, name: str, description: str, criteria: str,
           tags: list[str]) -> dict[str, Any]:
    return {"code": code, "name": name, "description": description, "criteria": criteria,
            "tags": tags}


SKILLS: tuple[dict[str, Any], ...] = (
    _skill("PSW-COMM-1", "Person-centred communication",
           "Communicates with clients and families respectfully, checking understanding.",
           "Observed in a simulated home visit: introduces self, asks before acting, "
           "checks understanding with the client.", ["health care", "communication"]),
    _skill("PSW-IPAC-1", "Hand hygiene and personal protective equipment",
           "Follows routine practices: the four moments of hand hygiene, donning and doffing.",
           "Observed: performs hand hygiene at the four moments and dons and doffs PPE in the "
           "right order.", ["health care", "safety"]),
    _skill("PSW-PALL-1", "Comfort care at the end of life",
           "Supports comfort, dignity and the family's wishes in palliative care.",
           "Case study and simulation: plans comfort measures and responds to a family's "
           "questions within the role.", ["health care", "palliative care"]),
    _skill("PSW-DEM-1", "Responding to responsive behaviours",
           "Recognises triggers of responsive behaviours in dementia and responds calmly.",
           "Observed in simulation: identifies a trigger, uses a de-escalation approach and "
           "reports it.", ["health care", "dementia"]),
    _skill("PY-DATA-1", "Analysing tabular data with pandas",
           "Loads, cleans, groups and summarises tabular data with pandas.",
           "Answers three questions about a supplied dataset with a reproducible notebook.",
           ["programming", "python", "data"]),
    _skill("PY-WEB-1", "Building a small web application",
           "Builds a small Flask application with forms, templates and a database.",
           "Delivers a working three-page application with validation and tests.",
           ["programming", "python", "web"]),
    _skill("PY-TEST-1", "Automated testing with pytest",
           "Writes unit tests with fixtures and parametrisation, and measures coverage.",
           "Adds tests that find two planted defects in a supplied project.",
           ["programming", "python", "testing"]),
    _skill("PY-CAP-1", "Applied Python capstone",
           "Plans and delivers a small Python project for a real client.",
           "Presents a capstone project to a client panel with its code and tests.",
           ["programming", "python"]),
    _skill("COMM-PRES-1", "Presenting with confidence",
           "Structures and delivers a short presentation adapted to the audience.",
           "Delivers a five-minute presentation assessed with the published checklist.",
           ["communication"]),
    _skill("COMM-WRITE-1", "Plain-language business writing",
           "Writes clear, concise emails and briefing notes in plain language.",
           "Rewrites a supplied memo in plain language and drafts a briefing note.",
           ["communication"]),
    _skill("FAC-MEET-1", "Facilitating productive meetings",
           "Plans an agenda, keeps time and leads a group to decisions.",
           "Facilitates a 30-minute simulated meeting to a documented decision.",
           ["facilitation"]),
    _skill("HR-CONF-1", "Resolving workplace conflict",
           "Uses interest-based approaches to resolve conflict between colleagues.",
           "Role-play: mediates a conflict scenario and summarises the agreement.",
           ["human relations"]),
    _skill("HR-TEAM-1", "Building effective teams",
           "Sets team norms, roles and feedback routines.",
           "Produces a team charter with a simulated team and runs one feedback round.",
           ["human relations"]),
    _skill("LEAD-CAP-1", "Leadership reflection portfolio",
           "Reflects on leadership practice with evidence from the workplace.",
           "Submits a reflective portfolio with three pieces of workplace evidence.",
           ["leadership"]),
)


def _credential(code: str, title: str, short: str, hours: str, skill: str, *,
                field: str, occupations: list[str], credit: str | None = None,
                level: str = "Introductory") -> dict[str, Any]:
    return {
        "code": code, "title": title, "short_description": short,
        "learning_outcomes": [short], "assessment_kind": "pass_fail_demonstration",
        "assessment_method": "Observed practical tasks marked pass/fail against published "
                             "criteria.",
        "notional_hours": hours, "credit_bearing": credit is not None,
        "credit_value": credit, "credit_system": "Ontario college credits (Lakeshore "
                                                 "College)" if credit else "",
        "delivery_modes": ["in_person", "asynchronous"], "target_occupations": occupations,
        "field_of_study": field, "level": level, "languages": ["en", "fr"],
        "required_skills": [skill], "optional_skills": [], "optional_min": 0,
        "allowed_routes": ["integrated", "stand_alone"], "tags": [field.lower()],
    }


# French texts (Canadian French, docs/glossary-fr.md) of the pathways' skills and credentials:
# the sandbox reads in both languages, like the rest of the demo catalog.
SKILLS_FR: dict[str, dict[str, str]] = {
    "PSW-COMM-1": {
        "name": "Communication centrée sur la personne",
        "description": "Communique avec respect avec les personnes clientes et leur famille, "
                       "en vérifiant leur compréhension.",
        "criteria": "Observé lors d'une visite à domicile simulée : se présente, demande "
                    "avant d'agir et vérifie la compréhension de la personne cliente."},
    "PSW-IPAC-1": {
        "name": "Hygiène des mains et équipement de protection individuelle",
        "description": "Applique les pratiques de base : les quatre moments de l'hygiène des "
                       "mains, l'enfilage et le retrait de l'équipement.",
        "criteria": "Observé : pratique l'hygiène des mains aux quatre moments et enfile et "
                    "retire l'ÉPI dans le bon ordre."},
    "PSW-PALL-1": {
        "name": "Soins de confort en fin de vie",
        "description": "Favorise le confort, la dignité et le respect des volontés de la "
                       "famille en soins palliatifs.",
        "criteria": "Étude de cas et simulation : planifie des mesures de confort et répond "
                    "aux questions d'une famille dans les limites de son rôle."},
    "PSW-DEM-1": {
        "name": "Réagir aux comportements réactifs",
        "description": "Reconnaît les déclencheurs des comportements réactifs liés à la "
                       "démence et y réagit avec calme.",
        "criteria": "Observé en simulation : repère un déclencheur, applique une approche de "
                    "désescalade et le signale."},
    "PY-DATA-1": {
        "name": "Analyser des données tabulaires avec pandas",
        "description": "Charge, nettoie, regroupe et résume des données tabulaires avec "
                       "pandas.",
        "criteria": "Répond à trois questions sur un jeu de données fourni dans un carnet "
                    "reproductible."},
    "PY-WEB-1": {
        "name": "Créer une petite application Web",
        "description": "Crée une petite application Flask avec des formulaires, des gabarits "
                       "et une base de données.",
        "criteria": "Livre une application de trois pages fonctionnelle, avec validation et "
                    "tests."},
    "PY-TEST-1": {
        "name": "Tests automatisés avec pytest",
        "description": "Écrit des tests unitaires avec fixtures et paramétrage, et mesure la "
                       "couverture.",
        "criteria": "Ajoute des tests qui trouvent deux défauts introduits dans un projet "
                    "fourni."},
    "PY-CAP-1": {
        "name": "Projet intégrateur en Python appliqué",
        "description": "Planifie et réalise un petit projet Python pour un vrai client.",
        "criteria": "Présente un projet intégrateur à un comité client, avec son code et ses "
                    "tests."},
    "COMM-PRES-1": {
        "name": "Présenter avec assurance",
        "description": "Structure et donne une courte présentation adaptée à l'auditoire.",
        "criteria": "Donne une présentation de cinq minutes évaluée avec la liste de "
                    "vérification publiée."},
    "COMM-WRITE-1": {
        "name": "Rédaction d'affaires en langage clair",
        "description": "Rédige des courriels et des notes d'information clairs et concis en "
                       "langage clair.",
        "criteria": "Réécrit une note de service fournie en langage clair et rédige une note "
                    "d'information."},
    "FAC-MEET-1": {
        "name": "Animer des réunions productives",
        "description": "Prépare un ordre du jour, gère le temps et mène un groupe à des "
                       "décisions.",
        "criteria": "Anime une réunion simulée de 30 minutes jusqu'à une décision "
                    "consignée."},
    "HR-CONF-1": {
        "name": "Résoudre les conflits au travail",
        "description": "Utilise des approches fondées sur les intérêts pour résoudre les "
                       "conflits entre collègues.",
        "criteria": "Jeu de rôle : fait la médiation d'un conflit et résume l'entente."},
    "HR-TEAM-1": {
        "name": "Bâtir des équipes efficaces",
        "description": "Établit les normes, les rôles et les pratiques de rétroaction d'une "
                       "équipe.",
        "criteria": "Produit une charte d'équipe avec une équipe simulée et mène une ronde "
                    "de rétroaction."},
    "LEAD-CAP-1": {
        "name": "Portfolio réflexif en leadership",
        "description": "Réfléchit à sa pratique du leadership à partir de preuves tirées du "
                       "milieu de travail.",
        "criteria": "Remet un portfolio réflexif comprenant trois preuves tirées du milieu "
                    "de travail."},
}
SKILLS = tuple({**skill, "translations": {"fr": SKILLS_FR[skill["code"]]}} for skill in SKILLS)

ASSESSMENT_FR = ("Tâches pratiques observées, évaluées en réussite ou échec selon des critères "
                 "publiés.")
CREDENTIALS_FR: dict[str, tuple[str, str]] = {  # code: (title, short description)
    "PSW-COMM": ("Communication centrée sur la personne en soins",
                 "Communiquer avec respect avec les personnes clientes et leur famille à "
                 "domicile et en soins de longue durée."),
    "PSW-IPAC": ("Prévention et contrôle des infections pour le personnel de soutien",
                 "Appliquer de façon sécuritaire les pratiques de base et les précautions "
                 "additionnelles."),
    "PSW-PALL": ("Fondements des soins palliatifs",
                 "Favoriser le confort et la dignité en fin de vie."),
    "PSW-DEM": ("Notions essentielles des soins aux personnes atteintes de démence",
                "Reconnaître les comportements réactifs liés à la démence et y réagir."),
    "PY-DATA": ("Python pour l'analyse de données",
                "Nettoyer, analyser et résumer des données avec Python et pandas."),
    "PY-WEB": ("Applications Web avec Python",
               "Créer une petite application Web testée avec Flask."),
    "PY-TEST": ("Tests automatisés en Python",
                "Trouver les défauts tôt grâce aux tests automatisés."),
    "APPLIED-PY": ("Python appliqué",
                   "Un titre de programme : les notions fondamentales de Python et deux "
                   "applications, cumulées."),
    "COMM-PRES": ("Présenter avec assurance",
                  "Préparer et donner de courtes présentations adaptées à l'auditoire."),
    "COMM-WRITE": ("Rédaction d'affaires en langage clair",
                   "Rédiger des courriels et des notes d'information clairs."),
    "FAC-MEET": ("Animer des réunions productives",
                 "Mener des réunions qui aboutissent à des décisions."),
    "HR-CONFLICT": ("Résolution de conflits au travail",
                    "Résoudre les conflits entre collègues par des approches fondées sur "
                    "les intérêts."),
    "HR-TEAM": ("Bâtir des équipes efficaces",
                "Établir les normes, les rôles et les pratiques de rétroaction d'une "
                "équipe."),
    "LEAD-CERT": ("Leadership en milieu de travail",
                  "Un titre de programme qui cumule des microcertifications en "
                  "communication, en animation et en relations humaines."),
}


def _with_french(data: dict[str, Any]) -> dict[str, Any]:
    title, short = CREDENTIALS_FR[data["code"]]
    return {**data, "translations": {"fr": {
        "title": title, "short_description": short, "learning_outcomes": [short],
        "assessment_method": ASSESSMENT_FR}}}


PSW_JOBS = ["Personal support worker", "Health care aide"]
CREDENTIALS: tuple[tuple[dict[str, Any], tuple[str, str]], ...] = (
    (_credential("PSW-COMM", "Person-Centred Communication in Care",
                 "Communicate respectfully with clients and families in home and long-term "
                 "care.", "30", "PSW-COMM-1", field="Health care", occupations=PSW_JOBS),
     HEALTH),
    (_credential("PSW-IPAC", "Infection Prevention and Control for Support Workers",
                 "Apply routine practices and additional precautions safely.", "20",
                 "PSW-IPAC-1", field="Health care", occupations=PSW_JOBS), HEALTH),
    (_credential("PSW-PALL", "Foundations of Palliative Care",
                 "Support comfort and dignity at the end of life.", "40", "PSW-PALL-1",
                 field="Health care", occupations=PSW_JOBS), HEALTH),
    (_credential("PSW-DEM", "Dementia Care Fundamentals",
                 "Recognise and respond to responsive behaviours in dementia care.", "30",
                 "PSW-DEM-1", field="Health care", occupations=PSW_JOBS), HEALTH),
    (_credential("PY-DATA", "Python for Data Analysis",
                 "Clean, analyse and summarise data with Python and pandas.", "30",
                 "PY-DATA-1", field="Computer programming", credit="2.00",
                 occupations=["Data technician"]), PROGRAMS),
    (_credential("PY-WEB", "Web Applications with Python",
                 "Build a small, tested web application with Flask.", "30", "PY-WEB-1",
                 field="Computer programming", credit="2.00",
                 occupations=["Junior web developer"]), PROGRAMS),
    (_credential("PY-TEST", "Automated Testing in Python",
                 "Find defects early with automated tests.", "20", "PY-TEST-1",
                 field="Computer programming", credit="1.00",
                 occupations=["Quality assurance tester"]), PROGRAMS),
    (_credential("APPLIED-PY", "Applied Python",
                 "A program credential: Python fundamentals and two applications, stacked.",
                 "110", "PY-CAP-1", field="Computer programming", credit="6.00",
                 level="Ontario College Certificate level",
                 occupations=["Junior software developer"]), PROGRAMS),
    (_credential("COMM-PRES", "Presenting with Confidence",
                 "Plan and deliver short presentations that fit the audience.", "15",
                 "COMM-PRES-1", field="Communication", occupations=["Team lead"]), PROGRAMS),
    (_credential("COMM-WRITE", "Plain-Language Business Writing",
                 "Write clear emails and briefing notes.", "15", "COMM-WRITE-1",
                 field="Communication", occupations=["Team lead"]), PROGRAMS),
    (_credential("FAC-MEET", "Facilitating Productive Meetings",
                 "Lead meetings that end in decisions.", "20", "FAC-MEET-1",
                 field="Facilitation", occupations=["Team lead"]), PROGRAMS),
    (_credential("HR-CONFLICT", "Conflict Resolution at Work",
                 "Resolve conflict between colleagues with interest-based approaches.", "20",
                 "HR-CONF-1", field="Human relations", occupations=["Supervisor"]), PROGRAMS),
    (_credential("HR-TEAM", "Building Effective Teams",
                 "Set up a team's norms, roles and feedback routines.", "25", "HR-TEAM-1",
                 field="Human relations", occupations=["Supervisor"]), PROGRAMS),
    (_credential("LEAD-CERT", "Workplace Leadership",
                 "A program credential stacking communication, facilitation and human "
                 "relations micro-credentials.", "85", "LEAD-CAP-1", field="Leadership",
                 occupations=["Supervisor", "Team lead"]), PROGRAMS),
)


def _step(code: str, *, credits: str | None = None, hours: str | None = None,
          course: tuple[str, str, str] | None = None, versions: list[int] | None = None,
          notes: str = "") -> dict[str, Any]:
    art: dict[str, Any] = {}
    if credits:
        art.update(credit_bearing=True, credits=credits)
    if hours:
        art["hours"] = hours
    if course:
        art["courses"] = [{"code": course[0], "title": course[1], "relation": course[2]}]
    if notes:
        art["transfer_notes"] = notes
    return {"credential": code, "versions": versions or [], "articulation": art}


PATHWAYS: tuple[tuple[dict[str, Any], tuple[str, str]], ...] = (
    ({"code": "PSW-PATH", "title": "Personal Support Worker micro-credential pathway",
      "description": "Four micro-credentials that each stand alone at work and, together, "
                     "open the Personal Support Worker certificate with four first-term "
                     "courses already done.",
      "target": {"credential": None, "external": {
          "name": "Personal Support Worker — Ontario College Certificate",
          "institution": "Lakeshore College",
          "grants": "Admission with exemption from four first-term courses (12 of 38 "
                    "credits); the remaining courses and the clinical placement follow.",
          "url": "https://www.lakeshore.example/programs/psw"}},
      "articulation": {"credit_bearing": True, "credits": "12",
                       "credit_system": "Ontario college credits (Lakeshore College)",
                       "transfer_notes": "Registrar: grant the four exemptions on the "
                                         "certificate application; each micro-credential "
                                         "is verified from its public URL."},
      "groups": [{"key": "all", "title": "The four micro-credentials", "rule": "all",
                  "steps": [_step("PSW-COMM", credits="3", hours="30",
                                  course=("PSW-1010", "Communication in Care", "exempts")),
                            _step("PSW-IPAC", credits="3", hours="20",
                                  course=("PSW-1020", "Infection Control", "exempts")),
                            _step("PSW-PALL", credits="3", hours="40",
                                  course=("PSW-1040", "Palliative Approaches",
                                          "exempts")),
                            _step("PSW-DEM", credits="3", hours="30",
                                  course=("PSW-1050", "Cognitive Impairment", "exempts"))]}],
      "order": [["PSW-COMM", "PSW-PALL"], ["PSW-IPAC", "PSW-DEM"]],
      "translations": {"fr": {
          "title": "Parcours de microcertifications en soutien personnel",
          "description": "Quatre microcertifications, utiles chacune au travail, qui ouvrent "
                         "ensemble le certificat de préposé aux services de soutien "
                         "personnel avec quatre cours de première session déjà réussis."}}},
     HEALTH),
    ({"code": "PY-PATH", "title": "Python programming pathway",
      "description": "From Python Programming Fundamentals to two applications of your "
                     "choice: complete them to be awarded Applied Python, which also counts "
                     "toward the Computer Programming diploma.",
      "target": {"credential": "APPLIED-PY", "external": {
          "name": "Computer Programming — Ontario College Diploma",
          "institution": "Lakeshore College",
          "grants": "Exemption from PROG-2150 Applied Programming (3 credits).",
          "url": "https://www.lakeshore.example/programs/computer-programming"}},
      "articulation": {"credit_bearing": True, "credits": "3",
                       "credit_system": "Ontario college credits (Lakeshore College)",
                       "courses": [{"code": "PROG-2150", "title": "Applied Programming",
                                    "relation": "exempts"}],
                       "transfer_notes": "Applied Python is evidence for the PROG-2150 "
                                         "exemption; version 1 of Python Programming "
                                         "Fundamentals (no version control) does not "
                                         "count."},
      "groups": [{"key": "foundations", "title": "Foundations", "rule": "all",
                  "steps": [_step("PYFUND", credits="2", versions=[2],
                                  course=("PROG-1100", "Programming Fundamentals",
                                          "counts_toward"))]},
                 {"key": "applications", "title": "Applications", "rule": "choose",
                  "minimum": "2",
                  "steps": [_step("PY-DATA", credits="2"), _step("PY-WEB", credits="2"),
                            _step("PY-TEST", credits="1")]}],
      "order": [["PYFUND", "PY-DATA"], ["PYFUND", "PY-WEB"], ["PYFUND", "PY-TEST"]],
      "translations": {"fr": {
          "title": "Parcours en programmation Python",
          "description": "Des fondements de la programmation Python à deux applications "
                         "de votre choix : terminez-les pour obtenir Applied Python, qui "
                         "compte aussi pour le diplôme en programmation informatique."}}},
     PROGRAMS),
    ({"code": "LEAD-PATH", "title": "Workplace Leadership Certificate",
      "description": "A broad-area certificate: one communication micro-credential, then at "
                     "least 40 hours of facilitation and human relations.",
      "target": {"credential": "LEAD-CERT", "external": None},
      "articulation": {"credit_bearing": False},
      "groups": [{"key": "communication", "title": "Communication", "rule": "choose",
                  "minimum": "1",
                  "steps": [_step("COMM-PRES"), _step("COMM-WRITE")]},
                 {"key": "people", "title": "Facilitation and human relations",
                  "rule": "hours", "minimum": "40",
                  "steps": [_step("FAC-MEET"), _step("HR-CONFLICT"), _step("HR-TEAM")]}],
      "order": [],
      "translations": {"fr": {
          "title": "Certificat en leadership en milieu de travail",
          "description": "Un certificat à large portée : une microcertification en "
                         "communication, puis au moins 40 heures en animation et en "
                         "relations humaines."}}},
     PROGRAMS),
)
CODES = tuple(p["code"] for p, _ in PATHWAYS)


def _actor(issuer: Issuer, who: tuple[str, str]) -> Actor:
    return Actor(ref=who[0], name=who[1], issuer_id=issuer.id, scopes=frozenset(Scope))


def _review(session: Session, issuer: Issuer, comment: str) -> dict[str, Any]:
    return {"decision": "approve", "comment": comment,
            "scores": [{"criterion": c.key, "level": "met", "comment": ""}
                       for c in catalog.rubric_for(session, issuer.id)]}


def seed(session: Session, issuer: Issuer) -> list[str]:
    """Add the missing demo skills, credentials and pathways (all published). Returns the
    pathway codes created. Idempotent."""
    reviewer = _actor(issuer, REVIEWER)
    skills = set(session.scalars(select(Skill.code).where(Skill.issuer_id == issuer.id)))
    for data in SKILLS:
        if data["code"] not in skills:
            catalog.create_skill(session, _actor(issuer, PROGRAMS), data)
    codes = set(session.scalars(select(MicroCredential.code).where(
        MicroCredential.issuer_id == issuer.id)))
    for data, who in CREDENTIALS:
        if data["code"] in codes:
            continue
        author = _actor(issuer, who)
        draft = catalog.create_credential(session, author, _with_french(data))
        catalog.transition(session, author, draft.id, Action.SUBMIT)
        catalog.review(session, reviewer, draft.id,
                       _review(session, issuer, "Clear, assessable and aligned."))
        catalog.transition(session, author, draft.id, Action.PUBLISH)
    existing = set(session.scalars(select(Pathway.code).where(
        Pathway.issuer_id == issuer.id)))
    created = []
    for data, who in PATHWAYS:
        if data["code"] in existing:
            continue
        needed = {s["credential"] for g in data["groups"] for s in g["steps"]}
        if data["target"]["credential"]:
            needed.add(data["target"]["credential"])
        if any(catalog.published_version(session, issuer.id, c) is None for c in needed):
            continue  # an operator retired a demo credential: leave this pathway out
        author = _actor(issuer, who)
        version = pathways.create_pathway(session, author, data)
        pathways.transition(session, author, version.id, Action.SUBMIT)
        pathways.review(session, reviewer, version.id, _review(
            session, issuer, "Credit articulation confirmed with the registrar's office."))
        pathways.transition(session, author, version.id, Action.PUBLISH)
        created.append(data["code"])
    session.flush()
    return created
