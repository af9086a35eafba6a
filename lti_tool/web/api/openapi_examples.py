"""Examples for the OpenAPI document (``openapi.py``): one realistic value per component
schema (the bodies every route sends and returns) and per inline body (CSV, the catalog
document, the verifier's report), so each route shows what to send and what comes back.
``add_examples`` attaches them; a test validates every example against its schema."""

from __future__ import annotations

import copy
from typing import Any

WHEN = "2026-03-14T15:09:26+00:00"
LATER = "2026-03-21T10:00:00+00:00"

ALIGNMENT: dict[str, Any] = {"framework": "ESCO", "target_url": "http://data.europa.eu/esco/skill/py-var",
             "target_code": "S1.2.3", "target_name": "use Python variables",
             "target_type": "ESCO"}
SKILL_INPUT: dict[str, Any] = {"code": "PY-VAR", "name": "Variables and types",
               "description": "Declares and uses variables of the right type.",
               "criteria": "Writes a program whose variables hold the right types, and "
                           "explains each choice.",
               "alignments": [ALIGNMENT], "tags": ["python", "programming"],
               "translations": {"fr": {
                   "name": "Variables et types",
                   "description": "Déclare et utilise des variables du bon type.",
                   "criteria": "Écrit un programme dont les variables ont les bons types, "
                               "et explique chaque choix."}}}
SKILL: dict[str, Any] = {"id": 12, **SKILL_INPUT, "row_version": 3, "created_at": WHEN,
                         "updated_at": LATER}
CREDENTIAL_INPUT: dict[str, Any] = {
    "code": "PY-FUND", "title": "Python Programming Fundamentals",
    "short_description": "Write, test and debug small Python programs.",
    "long_description": "For learners new to programming.",
    "learning_outcomes": ["Write programs with variables and types", "Use control flow",
                          "Write and call functions"],
    "assessment_kind": "pass_fail_demonstration",
    "assessment_method": "Each skill is demonstrated on a short programming task.",
    "grading": "pass_fail", "notional_hours": "37.5", "credit_bearing": True,
    "credit_value": "1.5", "credit_system": "Ontario college credit hours",
    "delivery_modes": ["asynchronous", "in_person"],
    "stand_alone_value": "Entry-level scripting for office automation.",
    "target_occupations": ["Junior developer"], "field_of_study": "Computer science",
    "level": "Introductory", "image_url": "https://www.example.edu/badges/py-fund.png",
    "image_alt": "A blue hexagon with a Python logo", "expiry_months": 24,
    "languages": ["en", "fr"], "required_skills": ["PY-VAR", "PY-FLOW", "PY-FUNC"],
    "optional_skills": ["PY-TEST", "PY-DEBUG"], "optional_min": 1,
    "allowed_routes": ["integrated", "stand_alone"], "tags": ["python"],
    "translations": {"fr": {
        "title": "Notions fondamentales de Python",
        "short_description": "Écrire, tester et déboguer de petits programmes Python.",
        "learning_outcomes": ["Écrire des programmes avec des variables et des types",
                              "Utiliser des structures de contrôle",
                              "Écrire et appeler des fonctions"],
        "assessment_method": "Chaque compétence est démontrée dans une courte tâche de "
                             "programmation.",
        "credit_system": "Heures-crédits collégiales de l'Ontario",
        "field_of_study": "Informatique", "level": "Initiation"}}}
VERSION_SUMMARY: dict[str, Any] = {"id": 41, "credential_id": 7, "code": "PY-FUND", "version": 2,
                   "state": "published", "title": "Python Programming Fundamentals",
                   "short_description": "Write, test and debug small Python programs.",
                   "notional_hours": "37.5", "credit_bearing": True,
                   "field_of_study": "Computer science", "row_version": 5,
                   "updated_at": LATER, "translations": {"fr": {
                       "title": "Notions fondamentales de Python",
                       "short_description": "Écrire, tester et déboguer de petits "
                                            "programmes Python."}}}
VERSION: dict[str, Any] = {"id": 41, "credential_id": 7, "code": "PY-FUND", "version": 2,
           "state": "published", "allowed_actions": ["retire"], "row_version": 5,
           "author_name": "Avery Admin", "content": CREDENTIAL_INPUT,
           "skills": [{"code": "PY-VAR", "name": "Variables and types",
                       "requirement": "required",
                       "translations": {"fr": {"name": "Variables et types"}}},
                      {"code": "PY-TEST", "name": "Testing", "requirement": "optional"}],
           "earning_rule": "To earn it, demonstrate Variables and types, Control flow and "
                           "Functions and at least 1 of Testing or Debugging.",
           "missing_translations": ["long_description", "stand_alone_value",
                                    "target_occupations", "image_alt",
                                    "skills.PY-TEST.name"],
           "review_count": 1, "created_at": WHEN, "updated_at": LATER,
           "submitted_at": WHEN, "approved_at": WHEN, "published_at": LATER,
           "retired_at": None}
SCORES: list[dict[str, Any]] = [{"criterion": "structure", "level": "met", "comment": ""},
          {"criterion": "outcomes", "level": "exemplary",
           "comment": "Outcomes are measurable."}]
REVIEW_INPUT: dict[str, Any] = {"decision": "approve", "comment": "Ready to publish.",
                "confirm_not_met": False, "scores": SCORES}
REVIEW: dict[str, Any] = {
          "id": 3, "version_id": 41, "reviewer_name": "Blake Board", "decision": "approve",
          "comment": "Ready to publish.", "scores": SCORES,
          "rubric": [{"key": "structure", "lens": "educational",
                      "title": "Structure and admission requirements"},
                     {"key": "outcomes", "lens": "educational",
                      "title": "Learning outcomes"}],
          "confirmed_not_met": [], "created_at": WHEN}
ISSUER: dict[str, Any] = {"id": 1, "slug": "lakeshore", "name": "Lakeshore College",
          "url": "https://www.lakeshore.example.edu", "email": "registrar@lakeshore.example.edu",
          "image_url": "", "description": "A public college.", "languages": ["en", "fr"],
          "translations": {"fr": {"name": "Collège Lakeshore",
                                  "description": "Un collège public."}},
          "row_version": 2, "updated_at": WHEN}
DEMO_REF: dict[str, Any] = {"id": 901, "skill_code": "PY-VAR", "outcome": "pass",
                            "demonstrated_at": WHEN}
AWARD: dict[str, Any] = {"id": 55, "public_id": "k3Zr9T0bq2LwX1vYp8aN4Q", "credential_id": 7,
         "credential_code": "PY-FUND", "credential_title": "Python Programming Fundamentals",
         "version": 2, "version_id": 41, "person_id": 310, "learner_name": "Lena Learner",
         "route": "integrated", "context_id": 18,
         "context_title": "Intro to Programming (for credit)", "awarded_at": LATER,
         "status": "active", "flagged_at": None, "flag_reason": "", "revoked_at": None,
         "revoked_reason": "", "demonstrations": [DEMO_REF]}
DEMONSTRATION: dict[str, Any] = {"id": 901, "person_id": 310, "account_id": 412,
                 "learner_name": "Lena Learner", "skill_code": "PY-VAR",
                 "skill_name": "Variables and types", "outcome": "pass",
                 "method": "in_course_assignment",
                 "evidence_url": "https://moodle.example.edu/mod/assign/view.php?id=77",
                 "note": "Clear explanation of each type.", "demonstrated_at": WHEN,
                 "recorded_at": WHEN, "route": "integrated", "context_id": 18,
                 "context_title": "Intro to Programming (for credit)",
                 "assessor_name": "Autograder"}
OFFERING: dict[str, Any] = {
            "id": 23, "course_id": 18, "credential_id": 7, "credential_code": "PY-FUND",
            "credential_title": "Python Programming Fundamentals", "version": 2,
            "skill_codes": ["PY-VAR", "PY-FLOW", "PY-FUNC", "PY-TEST", "PY-DEBUG"],
            "attached_at": WHEN, "detached_at": None}
COURSE: dict[str, Any] = {"id": 18, "context_id": "2", "title": "Intro to Programming (for credit)",
          "label": "INTROPROG", "kind": "for-credit",
          "platform": {"issuer": "https://moodle.example.edu", "client_id": "8EWetTI3y0mK5ko",
                       "deployment_id": "1", "name": "Moodle"},
          "roster_size": 42, "offerings": [OFFERING], "created_at": WHEN}
ROSTER_MEMBER: dict[str, Any] = {"account_id": 412, "person_id": 310, "name": "Lena Learner",
                 "email": "lena@students.example.edu", "platform_user_id": "3",
                 "institutional_id": "S0012345", "learner": True,
                 "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
                 "status": "active", "source": "nrps"}
IMPORT_REPORT: dict[str, Any] = {"ok": True, "dry_run": True, "applied": False,
                 "counts": {"skills_created": 1, "skills_updated": 0, "skills_unchanged": 17},
                 "changes": [{"kind": "skill", "code": "PY-ASYNC", "change": "create",
                              "detail": "Asynchronous programming"}],
                 "problems": []}
IMPORTED_AWARD: dict[str, Any] = {"id": 56, "public_id": "Zq1Yc8mW2rT5uB0aKd7xLg", "person_id": 311,
                  "learner": "Omar Osei", "credential_code": "PY-FUND",
                  "credential_title": "Python Programming Fundamentals", "version": 2,
                  "route": "integrated"}


RECORD_AWARD: dict[str, Any] = {
    "id": "Zq1Yc8mW2rT5uB0aKd7xLg", "personId": 311, "learnerName": "Omar Osei",
    "learnerEmail": "omar@students.example.edu", "studentNumbers": ["S0012345"],
    "credentialCode": "PY-FUND", "title": "Python Programming Fundamentals", "version": 2,
    "route": "transfer", "course": None, "platform": None,
    "awardedAt": "2026-11-02T15:04:05Z", "status": "active", "revokedAt": None,
    "creditBearing": True, "credits": "3", "creditSystem": "College credits",
    "hours": "45",
    "notation": {"en": "Python Programming Fundamentals (PY-FUND) — micro-credential, 3 "
                       "credit(s), 45 h; Transfer (recognised from another institution); "
                       "2026-11-02",
                 "fr": "Python Programming Fundamentals (PY-FUND) — microcertification, 3 "
                       "crédit(s), 45 h; transfert (reconnu d'un autre établissement); "
                       "2026-11-02"},
    "changedAt": "2026-11-02T15:04:05Z"}


def _page(item: dict[str, Any], total: int = 1) -> dict[str, Any]:
    return {"items": [item], "page": 1, "per_page": 50, "total": total}


COURSE_CREDIT: dict[str, Any] = {"code": "PROG-2150", "title": "Applied Programming",
                                 "relation": "exempts"}
ARTICULATION: dict[str, Any] = {"credit_bearing": True, "credits": "1.5", "hours": "40",
                                "credit_system": "Ontario college credits",
                                "courses": [COURSE_CREDIT],
                                "transfer_notes": "Registrar: grant the exemption on request "
                                                  "with the credential's URL."}
PATHWAY_STEP: dict[str, Any] = {"credential": "PY-FUND", "versions": [2],
                                "articulation": ARTICULATION}
PATHWAY_GROUP: dict[str, Any] = {"key": "core", "title": "Core", "rule": "all",
                                 "minimum": None, "steps": [PATHWAY_STEP]}
PATHWAY_TARGET: dict[str, Any] = {
    "credential": "APPLIED-PY",
    "external": {"name": "Computer Programming — Ontario College Diploma",
                 "institution": "Lakeshore College",
                 "grants": "Exemption from PROG-2150 Applied Programming.",
                 "url": "https://www.lakeshore.example.edu/programs/cp"}}
PATHWAY_INPUT: dict[str, Any] = {
    "code": "PY-PATH", "title": "Python programming pathway",
    "description": "Three micro-credentials stack into Applied Python.",
    "target": PATHWAY_TARGET,
    "articulation": {**ARTICULATION, "credits": "3", "hours": None},
    "groups": [PATHWAY_GROUP,
               {"key": "electives", "title": "Electives", "rule": "choose", "minimum": "1",
                "steps": [{"credential": "PY-DATA", "versions": [], "articulation": {}},
                          {"credential": "PY-WEB", "versions": [], "articulation": {}}]}],
    "order": [["PY-FUND", "PY-DATA"]],
    "translations": {"fr": {"title": "Parcours en programmation Python"}}}
PATHWAY_SUMMARY: dict[str, Any] = {"id": 12, "pathway_id": 3, "code": "PY-PATH", "version": 1,
                                   "state": "published",
                                   "title": "Python programming pathway", "row_version": 4,
                                   "updated_at": LATER}
PATHWAY_VERSION: dict[str, Any] = {
    "id": 12, "pathway_id": 3, "code": "PY-PATH", "version": 1, "state": "published",
    "allowed_actions": ["retire"], "row_version": 4, "author_name": "Avery Admin",
    "content": PATHWAY_INPUT, "review_count": 1, "created_at": WHEN, "updated_at": LATER,
    "submitted_at": WHEN, "approved_at": WHEN, "published_at": LATER, "retired_at": None}
STEP_PROGRESS: dict[str, Any] = {"credential": "PY-FUND",
                                 "title": "Python Programming Fundamentals",
                                 "status": "earned", "counts": True}
GROUP_PROGRESS: dict[str, Any] = {"key": "core", "title": "Core", "rule": "all",
                                  "satisfied": True, "have": "1", "needed": "1",
                                  "steps": [STEP_PROGRESS]}
LEARNER_PATHWAY: dict[str, Any] = {
    "code": "PY-PATH", "version": 1, "title": "Python programming pathway",
    "url": "https://microcred.example.edu/c/lakeshore/pathways/PY-PATH", "complete": False,
    "steps_earned": 1, "steps_total": 3, "credits_earned": "1.5", "hours_earned": "40",
    "course_credit": ["PROG-2150"], "next_steps": ["PY-DATA", "PY-WEB"],
    "target_credential": "APPLIED-PY", "target_awarded": False, "groups": [GROUP_PROGRESS]}

COMPONENTS: dict[str, Any] = {
    "CourseCredit": COURSE_CREDIT,
    "Articulation": ARTICULATION,
    "Step": PATHWAY_STEP,
    "Group": PATHWAY_GROUP,
    "ExternalTarget": PATHWAY_TARGET["external"],
    "Target": PATHWAY_TARGET,
    "PathwayTranslation": {"title": "Parcours en programmation Python"},
    "PathwayInput": PATHWAY_INPUT,
    "PathwayUpdate": {**PATHWAY_INPUT, "row_version": 3},
    "PathwayVersionSummary": PATHWAY_SUMMARY,
    "PathwayVersionPage": _page(PATHWAY_SUMMARY, 2),
    "PathwayVersion": PATHWAY_VERSION,
    "Pathway": {"id": 3, "code": "PY-PATH", "created_at": WHEN, "latest_version_id": 12,
                "published_version_id": 12, "versions": [PATHWAY_SUMMARY]},
    "PathwayReviewList": {"items": [REVIEW]},
    "StepProgress": STEP_PROGRESS,
    "GroupProgress": GROUP_PROGRESS,
    "LearnerPathway": LEARNER_PATHWAY,
    "LearnerPathwayList": {"person_id": 310, "items": [LEARNER_PATHWAY]},
    "Alignment": ALIGNMENT,
    "SkillInput": SKILL_INPUT,
    "SkillUpdate": {**SKILL_INPUT, "row_version": 3},
    "Skill": SKILL,
    "SkillPage": _page(SKILL, 18),
    "CredentialInput": CREDENTIAL_INPUT,
    "CredentialUpdate": {**CREDENTIAL_INPUT, "row_version": 4},
    "VersionSummary": VERSION_SUMMARY,
    "VersionPage": _page(VERSION_SUMMARY, 4),
    "VersionSkill": VERSION["skills"][0],
    "Version": VERSION,
    "Credential": {"id": 7, "code": "PY-FUND", "created_at": WHEN, "latest_version_id": 41,
                   "published_version_id": 41, "versions": [VERSION_SUMMARY]},
    "TransitionInput": {"action": "publish", "row_version": 4},
    "CriterionScore": SCORES[0],
    "ReviewInput": REVIEW_INPUT,
    "ReviewCreate": {**REVIEW_INPUT, "row_version": 3},
    "Review": REVIEW,
    "ReviewList": {"items": [REVIEW]},
    "RubricRef": REVIEW["rubric"][0],
    "RubricLevel": {"key": "met", "label": "Met"},
    "RubricLens": {"key": "educational", "title": "Educational goals and standards"},
    "RubricCriterion": {"key": "structure", "lens": "educational",
                        "title": "Structure and admission requirements",
                        "description": "The structure and any admission requirements are "
                                       "clear."},
    "Rubric": {"levels": [{"key": "met", "label": "Met"}],
               "lenses": [{"key": "educational", "title": "Educational goals and standards"}],
               "criteria": [{"key": "structure", "lens": "educational",
                             "title": "Structure and admission requirements",
                             "description": "The structure and any admission requirements "
                                            "are clear."}]},
    "FieldChange": {"field": "title", "before": "Python Basics",
                    "after": "Python Programming Fundamentals"},
    "Diff": {"from": {**VERSION_SUMMARY, "id": 40, "version": 1, "state": "retired"},
             "to": VERSION_SUMMARY,
             "changes": [{"field": "title", "before": "Python Basics",
                          "after": "Python Programming Fundamentals"}]},
    "Issuer": ISSUER,
    "SkillTexts": SKILL_INPUT["translations"]["fr"],
    "SkillTranslations": SKILL_INPUT["translations"],
    "CredentialTexts": CREDENTIAL_INPUT["translations"]["fr"],
    "CredentialTranslations": CREDENTIAL_INPUT["translations"],
    "IssuerTexts": ISSUER["translations"]["fr"],
    "IssuerTranslations": ISSUER["translations"],
    "ImportProblem": {"where": "skills[3].code", "field": "code",
                      "message": "use 1-64 letters, digits, '.', '_' or '-'"},
    "ImportChange": IMPORT_REPORT["changes"][0],
    "ImportReport": IMPORT_REPORT,
    "ErrorBody": {"code": "validation_failed", "title": "Please correct the highlighted "
                                                        "fields",
                  "message": "Some fields are not valid.", "request_id": "4f1c2a9e7b3d5c60",
                  "fields": {"skill_code": ["is not a skill of a micro-credential offered "
                                            "in this course"]}},
    "Error": {"error": {"code": "not_found", "title": "Not found",
                        "message": "No such course for this token's institution.",
                        "request_id": "4f1c2a9e7b3d5c60"}},
    "CourseRef": {"context_id": "2"},
    "LearnerRef": {"platform_user_id": "3"},
    "DemonstrationInput": {"context": {"context_id": "2"},
                           "learner": {"platform_user_id": "3"}, "skill_code": "PY-VAR",
                           "outcome": "pass", "method": "in_course_assignment",
                           "evidence_url": "https://moodle.example.edu/mod/assign/view.php"
                                           "?id=77",
                           "note": "Clear explanation of each type.",
                           "demonstrated_at": WHEN},
    "Demonstration": DEMONSTRATION,
    "DemonstrationRef": DEMO_REF,
    "DemonstrationResult": {"demonstration": DEMONSTRATION, "awards": [AWARD]},
    "DemonstrationItem": {**DEMONSTRATION, "supersedes_id": None, "superseded_by": None},
    "DemonstrationPage": _page({**DEMONSTRATION, "supersedes_id": None,
                                "superseded_by": None}, 120),
    "ImportedAward": IMPORTED_AWARD,
    "DemonstrationImportReport": {"ok": True, "dry_run": False, "applied": True,
                                  "counts": {"rows": 2, "recorded": 2, "already_recorded": 0,
                                             "passes": 2, "fails": 0, "learners": 1,
                                             "skills": 2, "awards_created": 1,
                                             "problems": 0},
                                  "changes": [], "problems": [], "awards": [IMPORTED_AWARD]},
    "Award": AWARD,
    "AwardPage": _page(AWARD, 31),
    "RecordAward": RECORD_AWARD,
    "Notation": RECORD_AWARD["notation"],
    "RecordAwardPage": _page(RECORD_AWARD, 120),
    "PlatformRef": COURSE["platform"],
    "Offering": OFFERING,
    "OfferingInput": {"credential_code": "PY-FUND"},
    "Course": COURSE,
    "CoursePage": _page(COURSE),
    "RosterMember": ROSTER_MEMBER,
    "RosterPage": _page(ROSTER_MEMBER, 42),
}

CSV_DEMONSTRATIONS = ("learner,skill_code,outcome,date,evidence_url,method,note\r\n"
                      "lena@students.example.edu,PY-VAR,pass,2026-03-14,,"
                      "in_course_assignment,\r\n"
                      "3,PY-FLOW,fail,2026-03-14,,observation,Loop ends one step early.\r\n")
CSV_SKILLS = ("code,name,description,criteria,tags,alignment_framework,alignment_url,"
              "alignment_code,alignment_name,alignment_type,name_fr,description_fr,"
              "criteria_fr\r\n"
              "PY-VAR,Variables and types,Declares and uses variables.,,python;programming,"
              "ESCO,http://data.europa.eu/esco/skill/py-var,S1.2.3,use Python variables,"
              "ESCO,Variables et types,Déclare et utilise des variables.,\r\n")
CATALOG_DOCUMENT: dict[str, Any] = {"format": "microcred-catalog", "format_version": 1,
                    "exported_at": WHEN, "issuer": {"slug": "lakeshore",
                                                    "name": "Lakeshore College"},
                    "rubric": [], "skills": [SKILL_INPUT], "credentials": []}
VERIFY_REPORT: dict[str, Any] = {"result": "valid", "reason": "all checks passed", "format": "json",
                 "kind": "ob", "revoked": False, "suspended": False, "expired": False,
                 "notYetValid": False, "tooComplex": False,
                 "steps": [{"name": "proof", "status": "ok",
                            "message": "the signature is intact (eddsa-rdfc-2022)"},
                           {"name": "status", "status": "ok", "message": "not revoked"}],
                 "claims": {"issuer_name": "Lakeshore College",
                            "achievement_name": "Python Programming Fundamentals"}}
REVOKED: dict[str, Any] = {"award": {**AWARD, "status": "revoked", "revoked_at": LATER,
                     "revoked_reason": "Recorded for the wrong learner."},
           "credential": {"id": "https://microcred.example.edu/credentials/k3Zr9T0bq2LwX1v"
                                "Yp8aN4Q", "status": "revoked",
                          "status_list_credential": "https://microcred.example.edu/issuers/"
                                                    "lakeshore/status/1",
                          "status_list_index": 1042}}


OB_CREDENTIAL: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2",
                 "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "https://microcred.example.edu/credentials/k3Zr9T0bq2LwX1vYp8aN4Q",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": "https://microcred.example.edu/issuers/lakeshore", "type": ["Profile"],
               "name": "Lakeshore College"},
    "validFrom": LATER,
    "name": "Python Programming Fundamentals",
    "credentialSubject": {
        "type": ["AchievementSubject"],
        "identifier": [{"type": "IdentityObject", "identityType": "emailAddress",
                        "hashed": True, "identityHash": "sha256$2c1b…", "salt": "f00d…"}],
        "achievement": {"id": "https://microcred.example.edu/c/lakeshore/PY-FUND/v/2",
                        "type": ["Achievement"], "achievementType": "MicroCredential",
                        "name": "Python Programming Fundamentals",
                        "criteria": {"narrative": "Demonstrate every required skill."}}},
    "credentialStatus": {"id": "https://microcred.example.edu/issuers/lakeshore/status/1"
                               "#1042",
                         "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                         "statusListIndex": "1042",
                         "statusListCredential": "https://microcred.example.edu/issuers/"
                                                 "lakeshore/status/1"},
    "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
              "created": LATER, "proofPurpose": "assertionMethod",
              "verificationMethod": "https://microcred.example.edu/issuers/lakeshore#z6Mk…",
              "proofValue": "z3FXQ…"}}
CLR: dict[str, Any] = {"@context": ["https://www.w3.org/ns/credentials/v2",
                    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
                    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
       "id": "urn:uuid:6f5e0f3a-2b8c-4c5e-9a57-3c1d2e4f5a6b",
       "type": ["VerifiableCredential", "ClrCredential"],
       "issuer": OB_CREDENTIAL["issuer"], "name": "Learner record from Lakeshore College",
       "validFrom": LATER,
       "credentialSubject": {"type": ["ClrSubject"],
                             "verifiableCredential": [OB_CREDENTIAL],
                             "achievement": [OB_CREDENTIAL["credentialSubject"]
                                             ["achievement"]]},
       "proof": OB_CREDENTIAL["proof"]}
JWT = "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2lnbmF0dXJl"


def _example_for(media: dict[str, Any], schemas: dict[str, Any]) -> bool:
    """Whether this media type object already shows an example (its own, or its schema's)."""
    if "example" in media or "examples" in media:
        return True
    schema = media.get("schema", {})
    ref = schema.get("$ref", "")
    return bool(ref) and "example" in schemas.get(ref.rsplit("/", 1)[-1], {})


INLINE: dict[tuple[str, str, str, str], Any] = {
    # (path, method, "request" or status, media type) → example
    ("/api/v1/demonstrations/import", "post", "request", "text/csv"): CSV_DEMONSTRATIONS,
    ("/api/v1/skills.csv", "post", "request", "text/csv"): CSV_SKILLS,
    ("/api/v1/skills.csv", "get", "200", "text/csv"): CSV_SKILLS,
    ("/api/v1/catalog/import", "post", "request", "application/json"): CATALOG_DOCUMENT,
    ("/api/v1/catalog/export", "get", "200", "application/json"): CATALOG_DOCUMENT,
    ("/api/v1/verify", "post", "200", "application/json"): VERIFY_REPORT,
    ("/api/v1/awards/{award_id}/revoke", "post", "request", "application/json"):
        {"reason": "Recorded for the wrong learner."},
    ("/api/v1/awards/{award_id}/revoke", "post", "200", "application/json"): REVOKED,
    ("/api/v1/awards/{award_id}/credential", "get", "200", "application/vc+jwt"): JWT,
    ("/api/v1/awards/{award_id}/credential", "get", "200", "application/ld+json"):
        OB_CREDENTIAL,
    ("/api/v1/awards/{award_id}/credential", "get", "200", "application/json"):
        OB_CREDENTIAL,
    ("/api/v1/learners/{person_id}/clr", "get", "200", "application/ld+json"): CLR,
    ("/api/v1/learners/{person_id}/clr", "get", "200", "application/json"): CLR,
    ("/api/v1/verify", "post", "request", "application/ld+json"): OB_CREDENTIAL,
    ("/api/v1/verify", "post", "request", "application/json"): OB_CREDENTIAL,
    ("/api/v1/verify", "post", "request", "application/vc+jwt"): JWT,
    ("/api/v1/openapi.json", "get", "200", "application/json"):
        {"openapi": "3.0.3", "info": {"title": "MicroCred catalog API", "version": "…"},
         "paths": {}},
}
#: Bodies that are files (a baked badge image): an example would be binary.
BINARY_MEDIA = frozenset({"image/png", "image/svg+xml", "multipart/form-data"})


def add_examples(document: dict[str, Any]) -> dict[str, Any]:
    """Attach the examples to ``document`` (in place; returned for convenience)."""
    schemas = document["components"]["schemas"]
    for name, example in COMPONENTS.items():
        if name in schemas:
            schemas[name]["example"] = copy.deepcopy(example)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {})
            for media_type, media in body.items():
                example = INLINE.get((path, method, "request", media_type))
                if example is not None and not _example_for(media, schemas):
                    media["example"] = copy.deepcopy(example)
            for status, response in operation.get("responses", {}).items():
                for media_type, media in response.get("content", {}).items():
                    example = INLINE.get((path, method, status, media_type))
                    if example is not None and not _example_for(media, schemas):
                        media["example"] = copy.deepcopy(example)
    return document
