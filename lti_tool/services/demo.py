"""Demo data for the sandbox: the issuer "Lakeshore College of Applied Arts and Technology"
mapped to the sandbox LMS, a skills library aligned to external frameworks (ESCO skill URIs,
the Ontario elementary mathematics curriculum, CASE-style items of the college's own
framework) and a catalog whose entries sit at different lifecycle states:

- PYFUND "Python Programming Fundamentals": version 1 retired, version 2 published (after an
  approving review with the full rubric) — shows versioning;
- CODEMATH "Coding in the Elementary Math Classroom": in review, after a first review asked
  for changes;
- SHEETS "Data Analysis with Spreadsheets": approved, not yet published;
- PSW-TRANSFER "Safe Patient Transfers and Mobility": draft;
- three published pathways with their micro-credentials (``demo_pathways``): a personal
  support worker ladder into a certificate, a Python pathway into the "Applied Python"
  program credential, and a broad-area workplace leadership certificate.

The issuer publishes in English and French: its profile, every skill and every entry but
SHEETS have French texts (:mod:`lti_tool.services.demo_fr`); SHEETS has none on purpose,
to show the marked fallback to English and the review's warning.

Everything goes through the catalog services (validation, separation of duties, snapshots,
audit), so the demo is what a real institution would produce. Dates are set afterwards so
the history reads like a real one. ``seed_demo`` is idempotent: it adds what is missing and
changes nothing that exists (an operator's edits to demo entries are kept).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Action, Scope
from lti_tool.models import (
    CredentialVersion,
    Issuer,
    MicroCredential,
    Occupation,
    Review,
    Skill,
)
from lti_tool.services import catalog, occupations
from lti_tool.services.catalog import Actor
from lti_tool.services.demo_fr import (
    CODEMATH_FIRST_FR,
    CODEMATH_REVISED_FR,
    ISSUER_FR,
    PSW_FR,
    PYFUND_V1_FR,
    PYFUND_V2_FR,
    SKILLS_FR,
)
from lti_tool.services.keys import KeyVault

DEMO_SLUG = "lakeshore"
PLAR_SETTINGS: dict[str, Any] = {
    "policy": ("Lakeshore College recognises skills learned at work, in volunteering or at "
               "another institution. Each skill is assessed against the same criteria as in "
               "our courses, by an assessor of the program, from your narrative and "
               "evidence; a challenge exam, an interview or a demonstration may be "
               "scheduled. You may ask for a review of a decision within 30 days."),
    "fee_note": "$95 per micro-credential, payable to the Registrar's Office once assessed.",
    "turnaround_days": 15,
    "second_assessor_for_credit": False,
    "translations": {"fr": {
        "policy": ("Le Collège Lakeshore reconnaît les compétences acquises au travail, dans "
                   "le bénévolat ou dans un autre établissement. Chaque compétence est évaluée "
                   "selon les mêmes critères que dans nos cours, par un évaluateur du "
                   "programme, à partir de votre récit et de vos preuves; un examen, une "
                   "entrevue ou une démonstration peut être planifié. Vous pouvez demander la "
                   "révision d'une décision dans les 30 jours."),
        "fee_note": ("95 $ par microcertification, payables au bureau du registraire une "
                     "fois l'évaluation faite."),
    }},
}

ISSUER_PROFILE: dict[str, Any] = {
    "name": "Lakeshore College of Applied Arts and Technology",
    "url": "https://www.lakeshore.example",
    "email": "microcredentials@lakeshore.example",
    "description": (
        "Lakeshore College is a public college of applied arts and technology on the north "
        "shore of Lake Ontario. Its micro-credentials certify skills that learners have "
        "demonstrated, whether they earn them inside a for-credit program, in continuing "
        "education or through prior learning assessment."),
    "languages": ["en", "fr"],
    "translations": {"fr": ISSUER_FR},
}

ESCO = "http://data.europa.eu/esco/skill/"
CASE_BASE = "https://case.lakeshore.example/uri/"
ONTARIO_MATH = "https://www.dcp.edu.gov.on.ca/en/curriculum/elementary-mathematics"
ALL_SCOPES = frozenset(Scope)

# Who did what in the demo history (refs cannot collide with launched users: "account:<id>").
AUTHOR = ("demo:priya.raman", "Priya Raman, Program Development")
EDUCATION_AUTHOR = ("demo:jean.tremblay", "Jean Tremblay, Faculty of Education")
HEALTH_AUTHOR = ("demo:grace.okafor", "Grace Okafor, School of Health Sciences")
REVIEWER = ("demo:marc.lefebvre", "Marc Lefebvre, Academic Quality Office")
SECOND_REVIEWER = ("demo:amira.haddad", "Amira Haddad, Academic Quality Office")


def _case(key: str) -> str:
    """A stable CASE CFItem URI in the college's own competency framework."""
    return CASE_BASE + str(uuid.uuid5(uuid.NAMESPACE_URL, CASE_BASE + key))


def _lakeshore(key: str, name: str) -> dict[str, str]:
    return {"framework": "Lakeshore College Competency Framework (CASE)",
            "target_url": _case(key), "target_code": key, "target_name": name,
            "target_type": "CFItem"}


def _esco(uuid_part: str, name: str) -> dict[str, str]:
    return {"framework": "ESCO v1.2", "target_url": ESCO + uuid_part, "target_code": "",
            "target_name": name, "target_type": "ESCO"}


SKILLS: tuple[dict[str, Any], ...] = (
    # -- programming
    {"code": "PY-VARS", "name": "Variables and data types",
     "description": "Stores and transforms values with Python's built-in types: numbers, "
                    "strings, booleans, lists and dictionaries.",
     "criteria": "Writes a short program that reads input, converts it to the right type, "
                 "and explains the type of each variable when asked.",
     "alignments": [_esco("ccd0a1d9-afda-43d9-b901-96344886e14d",
                          "Python (computer programming)"),
                    _lakeshore("CP.1.1", "Represent data with appropriate types")],
     "tags": ["programming", "python"]},
    {"code": "PY-CTRL", "name": "Control flow",
     "description": "Directs a program with conditions and loops.",
     "criteria": "Solves a given problem with if/elif/else and a for or while loop, and "
                 "traces the loop by hand for a small input.",
     "alignments": [_esco("21d2f96d-35f7-4e3f-9745-c533d2dd6e97", "computer programming"),
                    _lakeshore("CP.1.2", "Control program flow")],
     "tags": ["programming", "python"]},
    {"code": "PY-FUNC", "name": "Functions",
     "description": "Decomposes a problem into functions with parameters and return values.",
     "criteria": "Refactors repeated code into a documented function with parameters and a "
                 "return value, and calls it from two places.",
     "alignments": [_lakeshore("CP.1.3", "Decompose problems into functions")],
     "tags": ["programming", "python"]},
    {"code": "PY-DEBUG", "name": "Debugging",
     "description": "Finds and fixes defects using error messages, print tracing and a "
                    "debugger.",
     "criteria": "Given a program with three planted defects, finds and fixes each one and "
                 "explains how the error message or debugger led to it.",
     "alignments": [_esco("21d2f96d-35f7-4e3f-9745-c533d2dd6e97", "computer programming"),
                    _lakeshore("CP.1.4", "Diagnose and correct program defects")],
     "tags": ["programming", "python", "troubleshooting"]},
    {"code": "VCS-BASICS", "name": "Version control basics",
     "description": "Keeps a project's history with Git: commits, branches and a remote "
                    "repository.",
     "criteria": "Creates a repository, makes meaningful commits on a branch, merges it and "
                 "pushes to a remote; recovers a file from an earlier commit.",
     "alignments": [_esco("9d2e926f-53d9-41f5-98f3-19dfaa687f3f",
                          "tools for software configuration management"),
                    _lakeshore("CP.2.1", "Manage source code with version control")],
     "tags": ["programming", "git"]},
    # -- teacher education
    {"code": "EDU-BLOCK", "name": "Block-based coding",
     "description": "Creates programs in a block-based environment such as Scratch to model "
                    "a mathematical situation.",
     "criteria": "Builds a Scratch project that uses sequencing, a loop and a condition to "
                 "model a grade-level mathematics task.",
     "alignments": [{"framework": "The Ontario Curriculum, Grades 1-8: Mathematics (2020)",
                     "target_url": ONTARIO_MATH, "target_code": "C3",
                     "target_name": "Algebra — Coding", "target_type": "Other"}],
     "tags": ["teacher education", "coding", "mathematics"]},
    {"code": "EDU-CTMATH", "name": "Computational thinking in mathematics lessons",
     "description": "Plans mathematics lessons in which pupils decompose problems, recognise "
                    "patterns and design algorithms.",
     "criteria": "Submits a lesson plan that names the curriculum expectations, the "
                 "computational-thinking practices pupils use and how they are observed.",
     "alignments": [{"framework": "The Ontario Curriculum, Grades 1-8: Mathematics (2020)",
                     "target_url": ONTARIO_MATH, "target_code": "C3",
                     "target_name": "Algebra — Coding", "target_type": "Other"},
                    _lakeshore("ED.3.2", "Integrate computational thinking in instruction")],
     "tags": ["teacher education", "mathematics"]},
    {"code": "EDU-ASSESS-CODE", "name": "Assessing student code",
     "description": "Gives feedback on and assesses pupils' programs against success "
                    "criteria.",
     "criteria": "Assesses three anonymised pupil projects with co-constructed success "
                 "criteria and writes descriptive feedback for each.",
     "alignments": [_lakeshore("ED.4.1", "Assess learning with success criteria")],
     "tags": ["teacher education", "assessment"]},
    {"code": "EDU-UNPLUGGED", "name": "Unplugged coding activities",
     "description": "Teaches coding concepts without devices, through movement, cards and "
                    "games.",
     "criteria": "Leads a peer group through an unplugged activity and explains which coding "
                 "concept it builds.",
     "alignments": [_lakeshore("ED.3.3", "Teach computing concepts without devices")],
     "tags": ["teacher education", "coding"]},
    {"code": "EDU-ROBOTS", "name": "Coding with educational robots",
     "description": "Uses floor robots and micro-controllers to make mathematics tangible.",
     "criteria": "Plans and runs a short activity where pupils program a robot to follow a "
                 "path measured in standard units.",
     "alignments": [_lakeshore("ED.3.4", "Use physical computing in the classroom")],
     "tags": ["teacher education", "coding", "robotics"]},
    # -- data
    {"code": "SS-FORMULAS", "name": "Spreadsheet formulas and functions",
     "description": "Calculates with formulas, relative and absolute references, lookup and "
                    "conditional functions.",
     "criteria": "Completes a budget workbook using SUMIFS, XLOOKUP and absolute references "
                 "with no hard-coded values.",
     "alignments": [_esco("1973c966-f236-40c9-b2d4-5d71a89019be", "use spreadsheets software")],
     "tags": ["data", "spreadsheets"]},
    {"code": "SS-CLEAN", "name": "Cleaning and structuring data",
     "description": "Turns messy exports into a tidy table: one record per row, consistent "
                    "types, no duplicates.",
     "criteria": "Cleans a supplied export of 500 rows and documents each transformation.",
     "alignments": [_lakeshore("DA.1.1", "Prepare data for analysis")],
     "tags": ["data", "spreadsheets"]},
    {"code": "SS-PIVOT", "name": "Summarising data with pivot tables",
     "description": "Answers business questions with pivot tables, filters and slicers.",
     "criteria": "Answers five questions about a sales dataset with pivot tables and states "
                 "each answer in a sentence.",
     "alignments": [_esco("1973c966-f236-40c9-b2d4-5d71a89019be", "use spreadsheets software"),
                    _lakeshore("DA.2.1", "Summarise data")],
     "tags": ["data", "spreadsheets"]},
    {"code": "SS-CHARTS", "name": "Communicating with charts",
     "description": "Chooses and formats charts that make a finding clear to a non-specialist "
                    "audience.",
     "criteria": "Presents one finding with an accessible chart (title, labelled axes, "
                 "colour-blind-safe palette) and a two-sentence takeaway.",
     "alignments": [_lakeshore("DA.3.1", "Communicate findings visually")],
     "tags": ["data", "communication"]},
    # -- health care
    {"code": "PSW-BODYMECH", "name": "Body mechanics and safe lifting",
     "description": "Protects self and client with a stable base, neutral spine and the "
                    "client's own ability used first.",
     "criteria": "Observed in the lab: sets up the space, explains the move to the client "
                 "and keeps correct body mechanics throughout.",
     "alignments": [_lakeshore("HS.2.1", "Apply safe body mechanics")],
     "tags": ["health care", "personal support"]},
    {"code": "PSW-TRANSFER", "name": "Assisted transfers with mechanical lifts",
     "description": "Transfers a client bed-to-chair with a sit-to-stand or full-body "
                    "mechanical lift according to the care plan.",
     "criteria": "Observed: checks the care plan and sling, performs a two-person lift "
                 "transfer safely and documents it.",
     "alignments": [_lakeshore("HS.2.2", "Perform assisted transfers")],
     "tags": ["health care", "personal support"]},
    {"code": "PSW-MOBILITY", "name": "Supporting ambulation and mobility aids",
     "description": "Assists a client to walk with a cane, walker or gait belt.",
     "criteria": "Observed: adjusts a walker to the client, uses a gait belt correctly and "
                 "responds safely to a simulated near-fall.",
     "alignments": [_lakeshore("HS.2.3", "Support mobility")],
     "tags": ["health care", "personal support"]},
    {"code": "PSW-FALLS", "name": "Falls-risk observation and reporting",
     "description": "Recognises falls risks in the client and the environment and reports "
                    "them.",
     "criteria": "Identifies the risks in a simulated room and writes an objective report "
                 "to the nurse.",
     "alignments": [_lakeshore("HS.3.1", "Observe and report client safety risks")],
     "tags": ["health care", "personal support", "safety"]},
)


# Every skill with its French texts (lti_tool.services.demo_fr).
SKILLS = tuple({**skill, "translations": {"fr": SKILLS_FR[skill["code"]]}} for skill in SKILLS)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class DemoResult:
    issuer: Issuer
    skills_created: list[str] = field(default_factory=list)
    credentials_created: list[str] = field(default_factory=list)
    pathways_created: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.skills_created or self.credentials_created or self.pathways_created)


def _actor(issuer: Issuer, who: tuple[str, str]) -> Actor:
    return Actor(ref=who[0], name=who[1], issuer_id=issuer.id, scopes=ALL_SCOPES)


def _full_review(session: Session, issuer_id: int, decision: str, comment: str,
                 levels: Mapping[str, str] | None = None,
                 notes: Mapping[str, str] | None = None) -> dict[str, Any]:
    levels = levels or {}
    notes = notes or {}
    scores = [{"criterion": c.key, "level": levels.get(c.key, "met"),
               "comment": notes.get(c.key, "")}
              for c in catalog.rubric_for(session, issuer_id)]
    return {"decision": decision, "comment": comment, "scores": scores}


def _stamp(version: CredentialVersion, **times: str) -> None:
    for name, value in times.items():
        setattr(version, name, _when(value))


def _stamp_review(review: Review, when: str) -> None:
    review.created_at = _when(when)


# -- the credentials ------------------------------------------------------------------------
PYFUND_V1: dict[str, Any] = {
    "code": "PYFUND",
    "title": "Python Programming Fundamentals",
    "short_description": "Write, test and debug small Python programs that solve everyday "
                         "problems.",
    "long_description": (
        "This micro-credential certifies that you can write small, working Python programs: "
        "store and transform data, direct a program with conditions and loops, organise "
        "code into functions, and find and fix defects. Each skill is shown in a short, "
        "practical task observed by an instructor."),
    "learning_outcomes": [
        "Write Python programs that read input, compute results and present output.",
        "Choose appropriate built-in data types for a problem.",
        "Control program flow with conditions and loops.",
        "Decompose a problem into reusable functions.",
        "Locate and correct defects systematically.",
    ],
    "assessment_kind": "pass_fail_demonstration",
    "assessment_method": "Four practical tasks, one per skill, completed in a supervised lab "
                         "or a recorded screen-share and marked pass/fail against published "
                         "criteria.",
    "grading": "pass_fail",
    "notional_hours": "24",
    "credit_bearing": True, "credit_value": "1.50",
    "credit_system": "Ontario college credits (Lakeshore College; 1 credit = 14 "
                     "instructional hours)",
    "delivery_modes": ["asynchronous", "synchronous"],
    "stand_alone_value": "Shows employers entry-level programming skill for automation, "
                         "data handling and technical support roles.",
    "target_occupations": ["Junior software developer", "IT support analyst"],
    "field_of_study": "Computer programming",
    "level": "Introductory (Ontario College Certificate level)",
    "languages": ["en"],
    "required_skills": ["PY-VARS", "PY-CTRL", "PY-FUNC", "PY-DEBUG"],
    "optional_skills": [], "optional_min": 0,
    "allowed_routes": ["integrated", "stand_alone", "plar"],
    "tags": ["programming", "python", "digital skills"],
    "translations": {"fr": PYFUND_V1_FR},
}

PYFUND_V2: dict[str, Any] = {
    **PYFUND_V1,
    "long_description": (
        "This micro-credential certifies that you can write small, working Python programs "
        "and keep them under version control: store and transform data, direct a program "
        "with conditions and loops, organise code into functions, find and fix defects, and "
        "record your work with Git. Each skill is shown in a short, practical task observed "
        "by an instructor.\n\nVersion 2 adds version control, which employers on the "
        "program advisory committee asked for."),
    "learning_outcomes": [*PYFUND_V1["learning_outcomes"],
                          "Track and share code with a version control system."],
    "assessment_method": "Five practical tasks, one per skill, completed in a supervised lab "
                         "or a recorded screen-share and marked pass/fail against published "
                         "criteria. Learners with prior experience may challenge each task "
                         "through PLAR.",
    "notional_hours": "30",
    "credit_value": "2.00",
    "target_occupations": ["Junior software developer", "IT support analyst",
                           "Data technician", "Quality assurance tester"],
    "required_skills": ["PY-VARS", "PY-CTRL", "PY-FUNC", "PY-DEBUG", "VCS-BASICS"],
    "translations": {"fr": PYFUND_V2_FR},
}

CODEMATH_FIRST: dict[str, Any] = {
    "code": "CODEMATH",
    "title": "Coding in the Elementary Math Classroom",
    "short_description": "For teacher candidates: teach the coding expectations of the "
                         "Ontario mathematics curriculum with confidence.",
    "long_description": (
        "Teacher candidates learn to plan, teach and assess the coding expectations of the "
        "Grades 1-8 mathematics curriculum. They build block-based programs themselves, "
        "design lessons where pupils think computationally about mathematics, and choose "
        "among assessing pupils' code, unplugged activities and educational robots."),
    "learning_outcomes": [
        "Create block-based programs that model grade-level mathematical situations.",
        "Plan mathematics lessons that develop computational thinking.",
        "Assess pupils' programs with clear success criteria.",
    ],
    "assessment_kind": "portfolio",
    "assessment_method": "A portfolio of a Scratch project, a lesson plan taught during the "
                         "practicum and two pieces of evidence for the chosen skills, "
                         "reviewed by a faculty member.",
    "grading": "pass_fail",
    "notional_hours": "20",
    "credit_bearing": False, "credit_value": None, "credit_system": "",
    "delivery_modes": ["asynchronous", "in_person"],
    "stand_alone_value": "Recognised by partner school boards as evidence of readiness to "
                         "teach the coding strand.",
    "target_occupations": ["Elementary teacher", "Occasional teacher"],
    "field_of_study": "Teacher education",
    "level": "Post-degree professional",
    "languages": ["en", "fr"],
    "required_skills": ["EDU-BLOCK", "EDU-CTMATH"],
    "optional_skills": ["EDU-ASSESS-CODE", "EDU-ROBOTS"],
    "optional_min": 1,
    "allowed_routes": ["integrated", "stand_alone", "plar"],
    "tags": ["teacher education", "coding", "mathematics"],
    "translations": {"fr": CODEMATH_FIRST_FR},
}

CODEMATH_REVISED: dict[str, Any] = {
    **CODEMATH_FIRST,
    "learning_outcomes": [
        *CODEMATH_FIRST["learning_outcomes"],
        "Teach coding concepts without devices for classrooms with limited technology.",
    ],
    "optional_skills": ["EDU-ASSESS-CODE", "EDU-UNPLUGGED", "EDU-ROBOTS"],
    "optional_min": 2,
    "translations": {"fr": CODEMATH_REVISED_FR},
}

SHEETS: dict[str, Any] = {
    "code": "SHEETS",
    "title": "Data Analysis with Spreadsheets",
    "short_description": "Clean, summarise and chart data in a spreadsheet to answer real "
                         "business questions.",
    "long_description": (
        "A practical micro-credential for office, retail and non-profit staff. You work "
        "with a realistic dataset from start to finish: clean the export, calculate with "
        "formulas, summarise with pivot tables and present a finding with a clear chart."),
    "learning_outcomes": [
        "Prepare raw data for analysis.",
        "Calculate with formulas and functions without hard-coded values.",
        "Summarise data with pivot tables to answer a question.",
        "Communicate a finding with an accessible chart.",
    ],
    "assessment_kind": "project",
    "assessment_method": "One capstone workbook on a supplied dataset, assessed pass/fail "
                         "against a checklist for each skill.",
    "grading": "pass_fail",
    "notional_hours": "15",
    "credit_bearing": False, "credit_value": None, "credit_system": "",
    "delivery_modes": ["self_directed", "asynchronous"],
    "stand_alone_value": "Valued by employers for administrative, retail-supervisor and "
                         "program-coordinator roles.",
    "target_occupations": ["Administrative assistant", "Retail supervisor",
                           "Program coordinator"],
    "field_of_study": "Business",
    "level": "Introductory",
    "languages": ["en"],
    "required_skills": ["SS-CLEAN", "SS-FORMULAS", "SS-PIVOT", "SS-CHARTS"],
    "optional_skills": [], "optional_min": 0,
    "allowed_routes": ["stand_alone", "plar"],
    "tags": ["data", "spreadsheets", "digital skills"],
}

PSW: dict[str, Any] = {
    "code": "PSW-TRANSFER",
    "title": "Safe Patient Transfers and Mobility",
    "short_description": "Move and transfer clients safely in long-term care and home care.",
    "long_description": (
        "For personal support workers and health care aides. Learners practise in the "
        "simulation lab and are observed performing transfers with mechanical lifts, "
        "supporting mobility and spotting falls risks, following the client's care plan."),
    "learning_outcomes": [
        "Use safe body mechanics when assisting clients.",
        "Transfer clients with mechanical lifts according to the care plan.",
        "Support clients walking with mobility aids.",
        "Observe and report falls risks objectively.",
    ],
    "assessment_kind": "observation",
    "assessment_method": "Direct observation in the simulation lab by a registered nurse "
                         "using a standard checklist; each skill must be performed safely "
                         "twice.",
    "grading": "pass_fail",
    "notional_hours": "12",
    "credit_bearing": False, "credit_value": None, "credit_system": "",
    "delivery_modes": ["in_person"],
    "stand_alone_value": "Meets the safe-handling refresher that partner long-term care "
                         "homes require every two years.",
    "target_occupations": ["Personal support worker", "Health care aide"],
    "field_of_study": "Health care",
    "level": "Workplace",
    "expiry_months": 24,
    "languages": ["en", "fr"],
    "required_skills": ["PSW-BODYMECH", "PSW-TRANSFER", "PSW-MOBILITY", "PSW-FALLS"],
    "optional_skills": [], "optional_min": 0,
    "allowed_routes": ["integrated", "stand_alone", "plar"],
    "tags": ["health care", "personal support"],
    "translations": {"fr": PSW_FR},
}


def _seed_pyfund(session: Session, issuer: Issuer) -> None:
    author, reviewer = _actor(issuer, AUTHOR), _actor(issuer, REVIEWER)
    second = _actor(issuer, SECOND_REVIEWER)
    v1 = catalog.create_credential(session, author, PYFUND_V1)
    catalog.transition(session, author, v1.id, Action.SUBMIT)
    r1 = catalog.review(session, second, v1.id, _full_review(
        session, issuer.id, "approve", "Clear outcomes and a rigorous practical assessment.",
        levels={"assessment": "exemplary"}))
    catalog.transition(session, author, v1.id, Action.PUBLISH)
    v2 = catalog.new_version(session, author, v1.credential_id)
    catalog.update_draft(session, author, v2.id, PYFUND_V2)
    catalog.transition(session, author, v2.id, Action.SUBMIT)
    r2 = catalog.review(session, reviewer, v2.id, _full_review(
        session, issuer.id, "approve",
        "Adding version control answers the advisory committee's request; the credit value "
        "matches the extra hours.",
        levels={"outcomes": "exemplary", "commonalities": "exemplary",
                "competencies": "exemplary"},
        notes={"commonalities": "Validated by the Computer Programming program advisory "
                                "committee (three regional employers).",
               "competencies": "Every skill is aligned to ESCO or the college framework.",
               "assessment": "Five observed tasks with published criteria.",
               "quality_review": "Reviewed yearly with the program's quality report."}))
    catalog.transition(session, author, v2.id, Action.PUBLISH)
    _stamp(v1, created_at="2024-06-10T14:05:00", submitted_at="2024-07-02T09:30:00",
           approved_at="2024-07-15T16:10:00", published_at="2024-08-26T12:00:00",
           retired_at="2025-04-28T12:00:00", updated_at="2025-04-28T12:00:00")
    _stamp_review(r1, "2024-07-15T16:10:00")
    _stamp(v2, created_at="2025-02-03T10:20:00", submitted_at="2025-03-10T11:00:00",
           approved_at="2025-03-24T15:45:00", published_at="2025-04-28T12:00:00",
           updated_at="2025-04-28T12:00:00")
    _stamp_review(r2, "2025-03-24T15:45:00")
    v1.credential.created_at = _when("2024-06-10T14:05:00")


def _seed_codemath(session: Session, issuer: Issuer) -> None:
    author, reviewer = _actor(issuer, EDUCATION_AUTHOR), _actor(issuer, REVIEWER)
    version = catalog.create_credential(session, author, CODEMATH_FIRST)
    catalog.transition(session, author, version.id, Action.SUBMIT)
    r1 = catalog.review(session, reviewer, version.id, _full_review(
        session, issuer.id, "request_changes",
        "Please offer an option for schools with few devices, and ask for two of the optional "
        "skills so the credential reflects the full 20 hours.",
        levels={"delivery": "partially_met", "structure": "partially_met"},
        notes={"delivery": "Many partner schools have limited devices: add an unplugged "
                           "route.",
               "structure": "One optional skill out of two is thin for 20 notional "
                            "hours."}))
    catalog.update_draft(session, author, version.id, CODEMATH_REVISED)
    catalog.transition(session, author, version.id, Action.SUBMIT)
    _stamp(version, created_at="2025-09-08T13:00:00", updated_at="2025-10-20T09:15:00",
           submitted_at="2025-10-20T09:15:00")
    _stamp_review(r1, "2025-09-29T10:40:00")
    version.credential.created_at = _when("2025-09-08T13:00:00")


def _seed_sheets(session: Session, issuer: Issuer) -> None:
    author, reviewer = _actor(issuer, AUTHOR), _actor(issuer, SECOND_REVIEWER)
    version = catalog.create_credential(session, author, SHEETS)
    catalog.transition(session, author, version.id, Action.SUBMIT)
    r1 = catalog.review(session, reviewer, version.id, _full_review(
        session, issuer.id, "approve",
        "Ready to publish once the continuing-education schedule is set.",
        notes={"mandate": "Supports the college's workforce-upskilling priority."}))
    _stamp(version, created_at="2025-08-18T11:00:00", submitted_at="2025-09-15T10:00:00",
           approved_at="2025-10-06T14:30:00", updated_at="2025-10-06T14:30:00")
    _stamp_review(r1, "2025-10-06T14:30:00")
    version.credential.created_at = _when("2025-08-18T11:00:00")


def _seed_psw(session: Session, issuer: Issuer) -> None:
    version = catalog.create_credential(session, _actor(issuer, HEALTH_AUTHOR), PSW)
    _stamp(version, created_at="2025-11-03T08:45:00", updated_at="2025-11-03T08:45:00")
    version.credential.created_at = _when("2025-11-03T08:45:00")


CREDENTIALS = (("PYFUND", _seed_pyfund), ("CODEMATH", _seed_codemath),
               ("SHEETS", _seed_sheets), ("PSW-TRANSFER", _seed_psw))


def _already_seeded(session: Session, issuer: Issuer | None, platform_id: int) -> bool:
    if issuer is None:
        return False
    if catalog.issuer_for_platform(session, platform_id, None) is None:
        return False
    codes = set(session.scalars(select(MicroCredential.code).where(
        MicroCredential.issuer_id == issuer.id)))
    if not all(code in codes for code, _ in CREDENTIALS):
        return False
    if session.scalar(select(Occupation.id).where(Occupation.issuer_id == issuer.id)
                      .limit(1)) is None:
        return False
    from lti_tool.models import Pathway
    from lti_tool.services import demo_pathways

    pathway_codes = set(session.scalars(select(Pathway.code).where(
        Pathway.issuer_id == issuer.id)))
    return all(code in pathway_codes for code in demo_pathways.CODES)


def seed_demo(session: Session, vault: KeyVault, base_url: str) -> DemoResult:
    """Create the demo issuer, map it to the sandbox platform, and add the demo skills and
    credentials that are missing. Idempotent and cheap once seeded (three queries); safe
    when two first requests race (the loser's savepoint rolls back). Nothing commits."""
    from lti_tool.sandbox.platform import ensure_platform

    platform = ensure_platform(session, vault, base_url)
    issuer = session.scalars(select(Issuer).where(Issuer.slug == DEMO_SLUG)).first()
    if _already_seeded(session, issuer, platform.id):
        assert issuer is not None
        return DemoResult(issuer)
    try:
        with session.begin_nested():
            return _seed(session, issuer, platform.id)
    except IntegrityError:
        # Another request seeded at the same moment: use what it wrote.
        issuer = session.scalars(select(Issuer).where(Issuer.slug == DEMO_SLUG)).one()
        return DemoResult(issuer)


def _seed(session: Session, issuer: Issuer | None, platform_id: int) -> DemoResult:
    if issuer is None:
        issuer = catalog.create_issuer(session, ISSUER_PROFILE, slug=DEMO_SLUG,
                                       actor_ref="demo")
        # What learners read before asking for prior learning assessment (PLAR).
        issuer.settings = {**(issuer.settings or {}), "plar": PLAR_SETTINGS}
    if catalog.issuer_for_platform(session, platform_id, None) is None:
        # Only when the sandbox serves no issuer yet: an operator's own mapping wins.
        catalog.map_platform(session, issuer.id, platform_id)
    result = DemoResult(issuer)
    admin = _actor(issuer, AUTHOR)
    existing = set(session.scalars(select(Skill.code).where(Skill.issuer_id == issuer.id)))
    for skill in SKILLS:
        if skill["code"] not in existing:
            catalog.create_skill(session, admin, skill)
            result.skills_created.append(skill["code"])
    codes = set(session.scalars(select(MicroCredential.code).where(
        MicroCredential.issuer_id == issuer.id)))
    for code, seed in CREDENTIALS:
        if code in codes:
            continue
        needed = _skills_of(code)
        have = set(session.scalars(select(Skill.code).where(Skill.issuer_id == issuer.id,
                                                            Skill.code.in_(needed))))
        if have != needed:
            continue  # an operator removed a demo skill: leave that entry out
        seed(session, issuer)
        result.credentials_created.append(code)
    occupations.add_sample(session, admin)
    session.flush()
    from lti_tool.services import demo_pathways  # issue 12: pathways and their credentials

    result.pathways_created = demo_pathways.seed(session, issuer)
    return result


def _skills_of(code: str) -> set[str]:
    spec = {"PYFUND": PYFUND_V2, "CODEMATH": CODEMATH_REVISED, "SHEETS": SHEETS,
            "PSW-TRANSFER": PSW}[code]
    first = {"PYFUND": PYFUND_V1, "CODEMATH": CODEMATH_FIRST}.get(code, spec)
    return {*spec["required_skills"], *spec["optional_skills"], *first["required_skills"],
            *first["optional_skills"]}
