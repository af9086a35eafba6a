"""The demo catalog's French texts (Canadian French, docs/glossary-fr.md), kept beside the
English ones of :mod:`lti_tool.services.demo` in the catalog's ``translations`` shape.

Every skill, the issuer profile and three of the four micro-credentials have their French
texts; "Data Analysis with Spreadsheets" (SHEETS) deliberately has none, so the sandbox
shows how a missing French text falls back to English, marked, and how review flags it.
"""

from __future__ import annotations

from typing import Any

ISSUER_FR: dict[str, str] = {
    "name": "Collège d'arts appliqués et de technologie Lakeshore",
    "description": (
        "Le Collège Lakeshore est un collège public d'arts appliqués et de technologie situé "
        "sur la rive nord du lac Ontario. Ses microcertifications attestent des compétences "
        "que les personnes apprenantes ont démontrées, qu'elles les obtiennent dans un "
        "programme crédité, en formation continue ou par la reconnaissance des acquis."),
}

SKILLS_FR: dict[str, dict[str, str]] = {
    "PY-VARS": {
        "name": "Variables et types de données",
        "description": "Stocke et transforme des valeurs avec les types intégrés de Python : "
                       "nombres, chaînes, booléens, listes et dictionnaires.",
        "criteria": "Écrit un court programme qui lit une entrée, la convertit dans le bon "
                    "type et explique sur demande le type de chaque variable."},
    "PY-CTRL": {
        "name": "Structures de contrôle",
        "description": "Dirige un programme avec des conditions et des boucles.",
        "criteria": "Résout un problème donné avec if/elif/else et une boucle for ou while, "
                    "et déroule la boucle à la main pour une petite entrée."},
    "PY-FUNC": {
        "name": "Fonctions",
        "description": "Décompose un problème en fonctions avec paramètres et valeurs de "
                       "retour.",
        "criteria": "Regroupe du code répété dans une fonction documentée avec paramètres et "
                    "valeur de retour, et l'appelle à deux endroits."},
    "PY-DEBUG": {
        "name": "Débogage",
        "description": "Trouve et corrige des défauts à l'aide des messages d'erreur, de "
                       "traces et d'un débogueur.",
        "criteria": "Dans un programme contenant trois défauts, trouve et corrige chacun "
                    "d'eux et explique comment le message d'erreur ou le débogueur l'y a "
                    "mené."},
    "VCS-BASICS": {
        "name": "Notions de gestion de versions",
        "description": "Conserve l'historique d'un projet avec Git : validations (commits), "
                       "branches et dépôt distant.",
        "criteria": "Crée un dépôt, fait des validations significatives sur une branche, la "
                    "fusionne et pousse vers un dépôt distant; récupère un fichier d'une "
                    "validation antérieure."},
    "EDU-BLOCK": {
        "name": "Programmation par blocs",
        "description": "Crée des programmes dans un environnement par blocs comme Scratch "
                       "pour modéliser une situation mathématique.",
        "criteria": "Réalise un projet Scratch qui utilise une séquence, une boucle et une "
                    "condition pour modéliser une tâche mathématique du niveau scolaire."},
    "EDU-CTMATH": {
        "name": "Pensée computationnelle dans les leçons de mathématiques",
        "description": "Planifie des leçons de mathématiques où les élèves décomposent des "
                       "problèmes, reconnaissent des régularités et conçoivent des "
                       "algorithmes.",
        "criteria": "Remet un plan de leçon qui nomme les attentes du curriculum, les "
                    "pratiques de pensée computationnelle des élèves et la façon de les "
                    "observer."},
    "EDU-ASSESS-CODE": {
        "name": "Évaluation du code des élèves",
        "description": "Donne de la rétroaction sur les programmes des élèves et les évalue "
                       "selon des critères de réussite.",
        "criteria": "Évalue trois projets d'élèves anonymisés avec des critères de réussite "
                    "élaborés en commun et rédige une rétroaction descriptive pour chacun."},
    "EDU-UNPLUGGED": {
        "name": "Activités de programmation débranchée",
        "description": "Enseigne des concepts de programmation sans appareil, par le "
                       "mouvement, des cartes et des jeux.",
        "criteria": "Anime une activité débranchée avec un groupe de pairs et explique quel "
                    "concept de programmation elle développe."},
    "EDU-ROBOTS": {
        "name": "Programmation de robots éducatifs",
        "description": "Utilise des robots de sol et des microcontrôleurs pour rendre les "
                       "mathématiques concrètes.",
        "criteria": "Planifie et anime une courte activité où les élèves programment un "
                    "robot pour suivre un trajet mesuré en unités conventionnelles."},
    "SS-FORMULAS": {
        "name": "Formules et fonctions de tableur",
        "description": "Calcule avec des formules, des références relatives et absolues, "
                       "des fonctions de recherche et des fonctions conditionnelles.",
        "criteria": "Remplit un classeur budgétaire avec SOMME.SI.ENS, RECHERCHEX et des "
                    "références absolues, sans valeur codée en dur."},
    "SS-CLEAN": {
        "name": "Nettoyage et structuration des données",
        "description": "Transforme des exportations désordonnées en un tableau propre : un "
                       "enregistrement par ligne, des types cohérents, aucun doublon.",
        "criteria": "Nettoie une exportation fournie de 500 lignes et documente chaque "
                    "transformation."},
    "SS-PIVOT": {
        "name": "Synthèse des données avec des tableaux croisés dynamiques",
        "description": "Répond à des questions d'affaires avec des tableaux croisés "
                       "dynamiques, des filtres et des segments.",
        "criteria": "Répond à cinq questions sur un jeu de données de ventes avec des "
                    "tableaux croisés dynamiques et énonce chaque réponse en une phrase."},
    "SS-CHARTS": {
        "name": "Communication par graphiques",
        "description": "Choisit et met en forme des graphiques qui rendent un constat clair "
                       "pour un public non spécialiste.",
        "criteria": "Présente un constat avec un graphique accessible (titre, axes "
                    "étiquetés, palette adaptée au daltonisme) et un message clé en deux "
                    "phrases."},
    "PSW-BODYMECH": {
        "name": "Mécanique corporelle et levage sécuritaire",
        "description": "Se protège et protège la personne cliente par une base stable, le "
                       "dos en position neutre et en faisant d'abord appel aux capacités de "
                       "la personne.",
        "criteria": "Observé en laboratoire : prépare l'espace, explique le déplacement à la "
                    "personne cliente et garde une mécanique corporelle correcte du début à "
                    "la fin."},
    "PSW-TRANSFER": {
        "name": "Transferts assistés avec lève-personne",
        "description": "Transfère une personne cliente du lit au fauteuil avec un "
                       "lève-personne de transfert ou un lève-personne complet, selon le "
                       "plan de soins.",
        "criteria": "Observé : vérifie le plan de soins et la toile, effectue un transfert "
                    "sécuritaire à deux personnes et le consigne."},
    "PSW-MOBILITY": {
        "name": "Soutien à la marche et aides à la mobilité",
        "description": "Aide une personne cliente à marcher avec une canne, une marchette ou "
                       "une ceinture de marche.",
        "criteria": "Observé : ajuste une marchette à la personne, utilise correctement une "
                    "ceinture de marche et réagit de façon sécuritaire à une quasi-chute "
                    "simulée."},
    "PSW-FALLS": {
        "name": "Observation et signalement des risques de chute",
        "description": "Reconnaît les risques de chute chez la personne cliente et dans son "
                       "environnement, et les signale.",
        "criteria": "Repère les risques dans une chambre simulée et rédige un rapport "
                    "objectif à l'intention de l'infirmière ou de l'infirmier."},
}

_PYFUND_OUTCOMES = [
    "Écrire des programmes Python qui lisent une entrée, calculent des résultats et "
    "présentent une sortie.",
    "Choisir les types de données intégrés qui conviennent à un problème.",
    "Diriger le déroulement d'un programme avec des conditions et des boucles.",
    "Décomposer un problème en fonctions réutilisables.",
    "Repérer et corriger des défauts de façon méthodique.",
]

PYFUND_V1_FR: dict[str, Any] = {
    "title": "Notions fondamentales de programmation Python",
    "short_description": "Écrire, tester et déboguer de petits programmes Python qui "
                         "résolvent des problèmes courants.",
    "long_description": (
        "Cette microcertification atteste que vous savez écrire de petits programmes Python "
        "fonctionnels : stocker et transformer des données, diriger un programme avec des "
        "conditions et des boucles, organiser le code en fonctions, puis trouver et corriger "
        "des défauts. Chaque compétence est démontrée dans une courte tâche pratique "
        "observée par une enseignante ou un enseignant."),
    "learning_outcomes": _PYFUND_OUTCOMES,
    "assessment_method": "Quatre tâches pratiques, une par compétence, réalisées dans un "
                         "laboratoire supervisé ou par partage d'écran enregistré, et notées "
                         "réussite ou échec selon des critères publiés.",
    "credit_system": "Crédits collégiaux de l'Ontario (Collège Lakeshore; 1 crédit = 14 "
                     "heures d'enseignement)",
    "stand_alone_value": "Montre aux employeurs une compétence de base en programmation "
                         "pour des postes en automatisation, en traitement de données et en "
                         "soutien technique.",
    "target_occupations": ["Développeuse ou développeur de logiciels débutant",
                           "Analyste du soutien informatique"],
    "field_of_study": "Programmation informatique",
    "level": "Initiation (niveau du certificat d'études collégiales de l'Ontario)",
}

PYFUND_V2_FR: dict[str, Any] = {
    **PYFUND_V1_FR,
    "long_description": (
        "Cette microcertification atteste que vous savez écrire de petits programmes Python "
        "fonctionnels et les gérer avec un système de gestion de versions : stocker et "
        "transformer des données, diriger un programme avec des conditions et des boucles, "
        "organiser le code en fonctions, trouver et corriger des défauts, et consigner votre "
        "travail avec Git. Chaque compétence est démontrée dans une courte tâche pratique "
        "observée par une enseignante ou un enseignant.\n\nLa version 2 ajoute la gestion "
        "de versions, à la demande des employeurs du comité consultatif du programme."),
    "learning_outcomes": [*_PYFUND_OUTCOMES,
                          "Suivre et partager du code avec un système de gestion de "
                          "versions."],
    "assessment_method": "Cinq tâches pratiques, une par compétence, réalisées dans un "
                         "laboratoire supervisé ou par partage d'écran enregistré, et notées "
                         "réussite ou échec selon des critères publiés. Les personnes qui "
                         "ont déjà de l'expérience peuvent faire reconnaître chaque tâche "
                         "par la reconnaissance des acquis (RDA).",
    "target_occupations": ["Développeuse ou développeur de logiciels débutant",
                           "Analyste du soutien informatique", "Technicienne ou technicien "
                           "en données", "Testeuse ou testeur en assurance qualité"],
}

_CODEMATH_OUTCOMES = [
    "Créer des programmes par blocs qui modélisent des situations mathématiques du niveau "
    "scolaire.",
    "Planifier des leçons de mathématiques qui développent la pensée computationnelle.",
    "Évaluer les programmes des élèves avec des critères de réussite clairs.",
]

CODEMATH_FIRST_FR: dict[str, Any] = {
    "title": "Le codage dans la classe de mathématiques à l'élémentaire",
    "short_description": "Pour les candidates et candidats à l'enseignement : enseigner avec "
                         "assurance les attentes en codage du curriculum de mathématiques de "
                         "l'Ontario.",
    "long_description": (
        "Les candidates et candidats à l'enseignement apprennent à planifier, enseigner et "
        "évaluer les attentes en codage du curriculum de mathématiques de la 1re à la 8e "
        "année. Ils créent eux-mêmes des programmes par blocs, conçoivent des leçons où les "
        "élèves abordent les mathématiques avec la pensée computationnelle, et choisissent "
        "parmi l'évaluation du code des élèves, les activités débranchées et les robots "
        "éducatifs."),
    "learning_outcomes": _CODEMATH_OUTCOMES,
    "assessment_method": "Un portfolio comprenant un projet Scratch, un plan de leçon donné "
                         "pendant le stage et deux preuves pour les compétences choisies, "
                         "examiné par un membre du corps professoral.",
    "stand_alone_value": "Reconnue par les conseils scolaires partenaires comme preuve de "
                         "préparation à l'enseignement du volet codage.",
    "target_occupations": ["Enseignante ou enseignant à l'élémentaire",
                           "Enseignante ou enseignant suppléant"],
    "field_of_study": "Formation à l'enseignement",
    "level": "Formation professionnelle postdiplôme",
}

CODEMATH_REVISED_FR: dict[str, Any] = {
    **CODEMATH_FIRST_FR,
    "learning_outcomes": [*_CODEMATH_OUTCOMES,
                          "Enseigner des concepts de programmation sans appareil dans les "
                          "classes qui disposent de peu de technologie."],
}

PSW_FR: dict[str, Any] = {
    "title": "Transferts et mobilité sécuritaires des patients",
    "short_description": "Déplacer et transférer les personnes clientes en toute sécurité "
                         "en soins de longue durée et à domicile.",
    "long_description": (
        "Pour les préposées et préposés aux services de soutien à la personne et les aides "
        "en soins de santé. Les personnes apprenantes s'exercent au laboratoire de "
        "simulation et sont observées pendant des transferts avec lève-personne, le soutien "
        "à la mobilité et le repérage des risques de chute, selon le plan de soins de la "
        "personne cliente."),
    "learning_outcomes": [
        "Appliquer une mécanique corporelle sécuritaire en aidant les personnes clientes.",
        "Transférer les personnes clientes avec un lève-personne selon le plan de soins.",
        "Soutenir les personnes clientes qui marchent avec une aide à la mobilité.",
        "Observer et signaler objectivement les risques de chute.",
    ],
    "assessment_method": "Observation directe au laboratoire de simulation par une "
                         "infirmière autorisée ou un infirmier autorisé à l'aide d'une liste "
                         "de vérification normalisée; chaque compétence doit être exécutée "
                         "deux fois de façon sécuritaire.",
    "stand_alone_value": "Satisfait à la mise à niveau en manutention sécuritaire que les "
                         "foyers de soins de longue durée partenaires exigent tous les deux "
                         "ans.",
    "target_occupations": ["Préposée ou préposé aux services de soutien à la personne",
                           "Aide en soins de santé"],
    "field_of_study": "Soins de santé",
    "level": "Milieu de travail",
}
