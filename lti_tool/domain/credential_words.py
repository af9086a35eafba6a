"""The fixed words of a signed credential, in each language a credential is issued in.

An Open Badges 3.0 credential is one document in one language (``achievement.inLanguage``):
its issuer-written texts come from the catalog (English, or the French of
``translations["fr"]``) and the few sentences MicroCred writes around them (the headings
of ``criteria.narrative``, the evidence narrative, the route, the image caption) come from
here. They are not message-catalog strings on purpose: a signed document's words must not
depend on the request that happens to issue it (an instructor's English launch issuing a
French-speaking learner's credential) nor change when a translation is edited later.
Terms follow docs/glossary-fr.md.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

#: The languages a credential can be issued in ("en" / "fr") and their BCP 47 tags
#: (``inLanguage``; Canadian French).
CREDENTIAL_LANGUAGES = ("en", "fr")
BCP47 = {"en": "en", "fr": "fr-CA"}

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "outcomes": "Learning outcomes:",
        "earning_rule": "Earning rule: {rule}",
        "assessment": "Assessment: {method}",
        "hours": "Notional learning hours: {hours}.",
        "delivery": "Delivery: {modes}.",
        "default_criteria": "Demonstrate every required skill (pass).",
        "caption": "Badge: {title}",
        "caption_issuer": "Badge: {title}, issued by {issuer}",
        "logo": "Logo of {issuer}",
        "framework": "{issuer} skills",
        "source_course": "Earned through the route “{route}” in the course “{course}” at "
                         "{issuer}.",
        "source": "Earned through the route “{route}” at {issuer}.",
        "evidence": "Skill: {skill} ({code}). Outcome: {outcome}. Method: {method}. "
                    "Date: {date}.",
        "pass": "demonstrated (pass)",
        "fail": "not demonstrated",
        "result": "Pass/Fail",
        "badge_word": "MICRO-CREDENTIAL",
        "badge_label": "{title} — micro-credential issued by {issuer}",
        "untitled": "Micro-credential",
        "clr_name": "Learner record from {issuer}",
        "clr_description": "The micro-credentials {issuer} has issued to this learner and "
                           "that are not revoked ({count}), each with its own signed "
                           "credential.",
    },
    "fr": {
        "outcomes": "Résultats d'apprentissage :",
        "earning_rule": "Règle d'obtention : {rule}",
        "assessment": "Évaluation : {method}",
        "hours": "Heures d'apprentissage théoriques : {hours}.",
        "delivery": "Mode de prestation : {modes}.",
        "default_criteria": "Démontrer chaque compétence requise (réussite).",
        "caption": "Badge : {title}",
        "caption_issuer": "Badge : {title}, émis par {issuer}",
        "logo": "Logo de {issuer}",
        "framework": "Compétences — {issuer}",
        "source_course": "Obtenue par la voie « {route} » dans le cours « {course} » "
                         "auprès de {issuer}.",
        "source": "Obtenue par la voie « {route} » auprès de {issuer}.",
        "evidence": "Compétence : {skill} ({code}). Résultat : {outcome}. "
                    "Méthode : {method}. Date : {date}.",
        "pass": "démontrée (réussite)",
        "fail": "non démontrée",
        "result": "Réussite ou échec",
        "badge_word": "MICROCERTIFICATION",
        "badge_label": "{title} — microcertification émise par {issuer}",
        "untitled": "Microcertification",
        "clr_name": "Dossier d'apprentissage — {issuer}",
        "clr_description": "Les microcertifications que {issuer} a attribuées à cette "
                           "personne et qui ne sont pas révoquées ({count}), chacune avec "
                           "son propre titre de compétences signé.",
    },
}

#: Catalog and tracking codes in French (the English labels are domain.catalog.LABELS and
#: domain.tracking.METHOD_LABELS).
_FRENCH_LABELS = {
    "self_directed": "Autonome", "asynchronous": "En ligne, asynchrone",
    "synchronous": "En ligne, synchrone", "in_person": "En personne",
    "integrated": "Dans un cours crédité",
    "stand_alone": "Autonome (formation continue)",
    "plar": "Reconnaissance des acquis (RDA)", "transfer": "Transfert de crédits",
    "in_course_assignment": "Travail dans le cours", "observation": "Observation",
    "portfolio": "Portfolio", "challenge_assessment": "Examen d'équivalence",
}


def credential_language(lang: str | None) -> str:
    """``fr``, ``fr-CA``, ``fr_CA`` → ``fr``; anything else → ``en``."""
    tag = (lang or "").replace("_", "-").lower()
    return "fr" if tag == "fr" or tag.startswith("fr-") else "en"


def words(lang: str, key: str, **values: str) -> str:
    """One fixed sentence of a credential in ``lang``, with ``values`` filled in."""
    return _WORDS[credential_language(lang)][key].format(**values)


def code_label(code: str, english_label: str, lang: str) -> str:
    """A catalog or tracking code's label in ``lang`` (``english_label`` in English)."""
    if credential_language(lang) == "fr":
        return _FRENCH_LABELS.get(code, english_label)
    return english_label


def number(value: Decimal | float | int | str, lang: str) -> str:
    """``37.5`` / ``37,5`` (no grouping: hours and credits are small numbers)."""
    try:
        text = format(Decimal(str(value)).normalize(), "f")
    except InvalidOperation:
        return str(value)
    return text.replace(".", ",") if credential_language(lang) == "fr" else text
