"""Controlled vocabularies: the codes every part of Pahichan stores, and resolvers to them.

Agencies write categories their own way ("female", "महिला", "F"; "sex trafficking";
"Dubai"). Each `resolve_*` function maps such text to one code of a vocabulary below, or to
None when it does not know the text (never a guess). Codes are what the batch, the warehouse
and the dashboards store; labels (English and Nepali) are for display only.

Vocabularies: sex, exploitation type (HTCDS 2.0 codes), country (ISO 3166-1 alpha-2,
`NP` for internal trafficking; data in `reference/countries.csv`), service (three tiers, from
the reintegration guidelines), agency type, coarse caste/ethnicity group, age band.
"""

from __future__ import annotations

from dataclasses import dataclass

# Countries live in their own module (data file + resolver); re-exported here so callers
# find every vocabulary in one place.
from schemas.countries import COUNTRIES as COUNTRIES
from schemas.countries import COUNTRIES_NE as COUNTRIES_NE
from schemas.countries import resolve_country as resolve_country
from schemas.text import build_lookup, normalise_key


def _resolve(lookup: dict[str, str], text: object) -> str | None:
    key = normalise_key(text)
    return lookup.get(key) if key else None


# --- sex -----------------------------------------------------------------------------------
SEXES: tuple[str, ...] = ("F", "M", "O")
SEX_LABELS: dict[str, str] = {"F": "Female", "M": "Male", "O": "Other"}
SEX_LABELS_NE: dict[str, str] = {"F": "महिला", "M": "पुरुष", "O": "अन्य"}
_SEX_SYNONYMS = {
    "F": ["woman", "women", "girl", "स्त्री", "केटी"],
    "M": ["man", "men", "boy", "केटा"],
    "O": ["third gender", "transgender", "intersex", "non binary", "तेस्रो लिङ्ग", "अन्य"],
}
_SEX = build_lookup(SEX_LABELS, SEX_LABELS_NE, _SEX_SYNONYMS)


def resolve_sex(text: object) -> str | None:
    """`F`, `M` or `O` from a code, English/Nepali word ("female", "महिला"); else None."""
    return _resolve(_SEX, text)


# --- exploitation type (HTCDS 2.0) ---------------------------------------------------------
EXPLOITATION_TYPES: dict[str, str] = {
    "forced_labour": "Forced labour",
    "sexual_exploitation": "Sexual exploitation",
    "child_labour": "Child labour",
    "forced_marriage": "Forced marriage",
    "servitude": "Servitude",
    "forced_military": "Forced military service",
    "organ_removal": "Organ removal",
    "forced_begging": "Forced begging",
    "forced_adoption": "Forced adoption",
    "surrogacy": "Forced surrogacy",
    "other": "Other",
}
EXPLOITATION_TYPES_NE: dict[str, str] = {
    "forced_labour": "जबरजस्ती श्रम",
    "sexual_exploitation": "यौन शोषण",
    "child_labour": "बाल श्रम",
    "forced_marriage": "जबरजस्ती विवाह",
    "servitude": "दासत्व",
    "forced_military": "जबरजस्ती सैन्य भर्ती",
    "organ_removal": "मानव अङ्ग झिक्ने",
    "forced_begging": "जबरजस्ती भिक्षावृत्ति",
    "forced_adoption": "जबरजस्ती धर्मपुत्र ग्रहण",
    "surrogacy": "जबरजस्ती सरोगेसी",
    "other": "अन्य",
}
_EXPLOITATION_SYNONYMS = {
    "forced_labour": [
        "forced labor",
        "labour",
        "labor",
        "labour trafficking",
        "labor trafficking",
        "labour exploitation",
        "bonded labour",
        "debt bondage",
        "श्रम शोषण",
    ],
    "sexual_exploitation": [
        "sex trafficking",
        "sexual",
        "sex",
        "forced prostitution",
        "prostitution",
        "commercial sexual exploitation",
        "cse",
        "sexual exploitation forced prostitution",
        "यौन",
    ],
    "child_labour": ["child labor", "बाल श्रम शोषण"],
    "forced_marriage": ["marriage", "child marriage", "bride trafficking", "विवाह"],
    "servitude": ["domestic servitude", "slavery", "domestic slavery", "दासता"],
    "forced_military": ["military", "child soldier", "forced recruitment"],
    "organ_removal": [
        "organ",
        "organ trafficking",
        "organ removal kidney",
        "kidney",
        "मिर्गौला",
        "अङ्ग",
    ],
    "forced_begging": ["begging", "भिक्षावृत्ति"],
    "forced_adoption": ["adoption", "illegal adoption"],
    "surrogacy": ["forced surrogacy", "surrogate"],
}
_EXPLOITATION = build_lookup(EXPLOITATION_TYPES, EXPLOITATION_TYPES_NE, _EXPLOITATION_SYNONYMS)


def resolve_exploitation_type(text: object) -> str | None:
    """HTCDS 2.0 code from a code, English/Nepali label or common synonym; else None."""
    return _resolve(_EXPLOITATION, text)


# --- services ------------------------------------------------------------------------------
SERVICE_TIERS: tuple[str, ...] = ("immediate", "short_term", "long_term")
SERVICE_TIER_LABELS_NE: dict[str, str] = {
    "immediate": "तत्काल",
    "short_term": "अल्पकालीन",
    "long_term": "दीर्घकालीन",
}


@dataclass(frozen=True)
class Service:
    code: str
    tier: str
    label_en: str
    label_ne: str


_SERVICE_ROWS = (
    ("assessment", "immediate", "Needs assessment", "आवश्यकता मूल्याङ्कन"),
    ("counselling", "immediate", "Counselling", "परामर्श"),
    ("health_check", "immediate", "Health check", "स्वास्थ्य जाँच"),
    ("shelter", "immediate", "Shelter", "आश्रय"),
    ("food", "immediate", "Food", "खाना"),
    ("family_contact", "immediate", "Family contact", "परिवारसँग सम्पर्क"),
    ("health_care", "short_term", "Health care", "स्वास्थ्य उपचार"),
    ("security", "short_term", "Security", "सुरक्षा"),
    ("psychosocial_counselling", "short_term", "Psychosocial counselling", "मनोसामाजिक परामर्श"),
    ("legal_aid", "short_term", "Legal aid", "कानुनी सहायता"),
    ("soft_loan_seed_money", "short_term", "Soft loan / seed money", "सहुलियत ऋण / बीउ पुँजी"),
    ("education", "long_term", "Education", "शिक्षा"),
    ("skills_training", "long_term", "Skills training", "सीप तालिम"),
    ("legal_action", "long_term", "Legal action", "कानुनी कारबाही"),
    (
        "family_community_counselling",
        "long_term",
        "Family and community counselling",
        "परिवार तथा समुदाय परामर्श",
    ),
    ("market_linkage", "long_term", "Market linkage", "बजार पहुँच"),
    ("grant", "long_term", "Grant", "अनुदान"),
    ("job_placement", "long_term", "Job placement", "रोजगारी"),
)
SERVICES: dict[str, Service] = {row[0]: Service(*row) for row in _SERVICE_ROWS}
_SERVICE_SYNONYMS = {
    "assessment": ["needs assessment", "case assessment", "मूल्याङ्कन"],
    "health_check": ["medical check", "medical checkup", "health checkup", "health screening"],
    "shelter": ["accommodation", "safe house", "temporary shelter", "आश्रय गृह"],
    "family_contact": ["family tracing", "family reunification"],
    "health_care": ["health", "medical", "medical care", "treatment", "उपचार"],
    "psychosocial_counselling": ["psychosocial", "psycho social counselling", "mental health"],
    "legal_aid": ["legal support", "legal counselling", "legal assistance"],
    "soft_loan_seed_money": ["soft loan", "seed money", "loan", "seed capital"],
    "skills_training": ["skills", "skill training", "vocational training", "तालिम"],
    "legal_action": ["case filing", "prosecution", "court case", "मुद्दा"],
    "family_community_counselling": ["family counselling", "community counselling"],
    "market_linkage": ["market links", "market link", "market access"],
    "job_placement": ["job", "employment", "रोजगार"],
}
_SERVICE = build_lookup(
    {c: s.label_en for c, s in SERVICES.items()},
    {c: s.label_ne for c, s in SERVICES.items()},
    _SERVICE_SYNONYMS,
)


def resolve_service(text: object) -> str | None:
    """Service code from a code, English/Nepali label or common synonym; else None."""
    return _resolve(_SERVICE, text)


# --- agency type ---------------------------------------------------------------------------
# The agency types that send batches (inbox folders, staging tables, manifests'
# `source_type`); police and other agencies appear only as referral partners.
SOURCE_TYPES: tuple[str, ...] = ("shelter", "ocmc", "migration")
AGENCY_TYPES: dict[str, str] = {
    "shelter": "Shelter",
    "ocmc": "One-stop Crisis Management Centre",
    "migration": "Migration agency",
    "police": "Police",
    "other": "Other",
}
AGENCY_TYPES_NE: dict[str, str] = {
    "shelter": "आश्रय गृह",
    "ocmc": "एकद्वार संकट व्यवस्थापन केन्द्र",
    "migration": "वैदेशिक रोजगार निकाय",
    "police": "प्रहरी",
    "other": "अन्य",
}
_AGENCY_SYNONYMS = {
    "shelter": ["ngo shelter", "safe house", "rehabilitation centre", "transit home", "आश्रय"],
    "ocmc": ["one stop crisis management center", "hospital", "ओसीएमसी"],
    "migration": [
        "department of foreign employment",
        "dofe",
        "foreign employment board",
        "feb",
        "foreign employment",
        "वैदेशिक रोजगार",
    ],
    "police": ["nepal police", "women and children service centre", "wcsc", "नेपाल प्रहरी"],
}
_AGENCY = build_lookup(AGENCY_TYPES, AGENCY_TYPES_NE, _AGENCY_SYNONYMS)


def resolve_agency_type(text: object) -> str | None:
    """Agency type code from a code, English/Nepali label or common name; else None."""
    return _resolve(_AGENCY, text)


# --- caste / ethnicity (coarse census-style groups) ----------------------------------------
CASTE_ETHNICITY_GROUPS: dict[str, str] = {
    "hill_brahmin_chhetri": "Hill Brahmin/Chhetri",
    "hill_janajati": "Hill Janajati",
    "newar": "Newar",
    "madhesi": "Madhesi",
    "tarai_janajati": "Tarai Janajati",
    "dalit": "Dalit",
    "muslim": "Muslim",
    "other": "Other",
}
CASTE_ETHNICITY_GROUPS_NE: dict[str, str] = {
    "hill_brahmin_chhetri": "पहाडी ब्राह्मण/क्षेत्री",
    "hill_janajati": "पहाडी जनजाति",
    "newar": "नेवार",
    "madhesi": "मधेशी",
    "tarai_janajati": "तराई जनजाति",
    "dalit": "दलित",
    "muslim": "मुस्लिम",
    "other": "अन्य",
}
# Group names only; individual surnames are deliberately not mapped (not reliable).
_CASTE_SYNONYMS = {
    "hill_brahmin_chhetri": [
        "brahmin chhetri",
        "brahman chhetri",
        "bahun chhetri",
        "hill brahmin chhetri",
        "ब्राह्मण क्षेत्री",
    ],
    "hill_janajati": ["hill adivasi janajati", "mountain hill janajati", "पहाडी आदिवासी जनजाति"],
    "madhesi": ["madheshi", "madhesi other caste", "मधेसी"],
    "tarai_janajati": ["terai janajati", "tarai adivasi janajati", "तराई आदिवासी जनजाति"],
    "muslim": ["musalman", "मुसलमान"],
}
_CASTE = build_lookup(CASTE_ETHNICITY_GROUPS, CASTE_ETHNICITY_GROUPS_NE, _CASTE_SYNONYMS)


def resolve_caste_ethnicity(text: object) -> str | None:
    """Coarse group code from a group code or group name (English/Nepali); else None."""
    return _resolve(_CASTE, text)


# --- age band ------------------------------------------------------------------------------
AGE_BANDS: tuple[str, ...] = ("0-11", "12-17", "18-24", "25-34", "35-49", "50+")
_AGE_BAND_LOWER = (0, 12, 18, 25, 35, 50)
MAX_PLAUSIBLE_AGE = 120


def age_band(age: int | None) -> str | None:
    """Band of an age in whole years; None when unknown, negative or implausible (>120)."""
    if age is None or age < 0 or age > MAX_PLAUSIBLE_AGE:
        return None
    band = AGE_BANDS[0]
    for lower, label in zip(_AGE_BAND_LOWER, AGE_BANDS, strict=True):
        if age >= lower:
            band = label
    return band


# --- record kind (agency extract contract 1.1) ------------------------------------------------
RECORD_KINDS: dict[str, str] = {"episode": "Contact episode", "followup": "Follow-up visit"}
RECORD_KINDS_NE: dict[str, str] = {"episode": "सम्पर्क", "followup": "अनुगमन भ्रमण"}
_RECORD_KIND_SYNONYMS = {
    "episode": ["contact", "case", "intake", "new"],
    "followup": ["follow up", "follow up visit", "visit", "monitoring", "अनुगमन", "फलोअप"],
}
_RECORD_KIND = build_lookup(RECORD_KINDS, RECORD_KINDS_NE, _RECORD_KIND_SYNONYMS)


def resolve_record_kind(text: object) -> str | None:
    """`episode` or `followup`; an empty value is `episode` (the default); unknown -> None."""
    if not normalise_key(text):
        return "episode"
    return _resolve(_RECORD_KIND, text)


# --- consent scope (agency extract contract 1.2) ---------------------------------------------
# What the survivor agreed the record may be used for, widest first. The encoder withholds
# `services_only` rows (they never leave the agency); `statistics_only` records are counted
# but never linked, exported to CTDC or written to the analyst file (docs/threat-model.md).
CONSENT_SCOPES: dict[str, str] = {
    "linkage_and_statistics": "Linkage and statistics",
    "statistics_only": "Statistics only",
    "services_only": "Services only",
}
CONSENT_SCOPE_DEFAULT = "linkage_and_statistics"  # an empty cell or no column (older exports)
# The scopes a batch may carry: a services_only record never leaves the agency.
CONSENT_SCOPES_SENT: tuple[str, ...] = ("linkage_and_statistics", "statistics_only")
# Only the codes and their English labels: a consent decision is never guessed from a
# synonym, and an unknown value rejects the row (it is not widened to the default).
_CONSENT_SCOPE = build_lookup(CONSENT_SCOPES)


def resolve_consent_scope(text: object) -> str | None:
    """A code of CONSENT_SCOPES; an empty value is the default scope; unknown -> None."""
    if not normalise_key(text):
        return CONSENT_SCOPE_DEFAULT
    return _resolve(_CONSENT_SCOPE, text)
