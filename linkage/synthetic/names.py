"""Nepali personal names as data (Latin and Devanagari), with spelling variants and weights.

Grain of each table: one row per name. Columns of the literal tuples below:
``(latin, devanagari, weight, latin_variants, devanagari_variants[, group])`` where variants are
``;``-separated spellings that agency registers really use for the same name (vowel length,
sh/s, v/b/w, ksh/x, dropped aspirates...). The weights give the frequency skew of a survivor
population drawn mostly from hill Janajati, Dalit and Terai communities of high-trafficking
districts: Tamang is the most common surname, a few given names (Sita, Laxmi, Maya) are very
common. Devanagari spellings are transliterated by hand; where no variant is listed, a
rule-based one (long/short vowel, व/ब, श/स...) is derived by `devanagari_rule_variants`.

Surname `group` is a code of `schemas.vocabularies.CASTE_ETHNICITY_GROUPS` (the commoner group
among survivors for surnames that several groups share, e.g. Thapa).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from schemas.vocabularies import CASTE_ETHNICITY_GROUPS

_FEMALE_GIVEN = (
    ("Sita", "सीता", 9, "Seeta;Sitaa", "सिता"),
    ("Laxmi", "लक्ष्मी", 9, "Lakshmi;Luxmi;Laksmi;Laxmee", "लक्ष्मि;लछमी"),
    ("Maya", "माया", 8, "Maaya;Mayaa", "मया"),
    ("Gita", "गीता", 7, "Geeta;Gitaa", "गिता"),
    ("Sarita", "सरिता", 7, "Sareeta;Saritaa", "सरीता"),
    ("Sunita", "सुनिता", 6, "Suneeta;Sunitaa", "सुनीता"),
    ("Kamala", "कमला", 6, "Kamla;Komala", "कम्ला"),
    ("Sabina", "सबिना", 5, "Sabeena;Sabinaa", "सबीना"),
    ("Radha", "राधा", 5, "Raadha;Radhaa", "राधे"),
    ("Parbati", "पार्वती", 5, "Parvati;Parwati;Parbatee", "पार्बती;पार्वति"),
    ("Mina", "मीना", 5, "Meena;Minaa", "मिना"),
    ("Rita", "रीता", 4, "Reeta;Ritaa", "रिता"),
    ("Puja", "पूजा", 5, "Pooja;Pujaa", "पुजा"),
    ("Sushma", "सुष्मा", 3, "Susma;Sushmaa", "सुस्मा"),
    ("Sangita", "संगीता", 4, "Sangeeta;Sangitaa", "सङ्गीता;संगिता"),
    ("Bimala", "बिमला", 3, "Bimla;Vimala", "विमला"),
    ("Kalpana", "कल्पना", 3, "Kalpanaa;Kalapana", "कल्पाना"),
    ("Nirmala", "निर्मला", 3, "Nirmla;Nirmalaa", "निरमला"),
    ("Rina", "रीना", 3, "Reena;Rinaa", "रिना"),
    ("Manisha", "मनिषा", 4, "Maneesha;Manisa;Manishaa", "मनीषा;मनिसा"),
    ("Asmita", "अस्मिता", 3, "Ashmita;Asmeeta", "अश्मिता"),
    ("Anjali", "अञ्जली", 3, "Anjalee;Anjaly", "अन्जली;अंजली"),
    ("Srijana", "सृजना", 3, "Shrijana;Srijanaa", "सिर्जना"),
    ("Pabitra", "पवित्रा", 3, "Pavitra;Pabitraa", "पबित्रा"),
    ("Samjhana", "सम्झना", 3, "Samjana;Samjhanaa", "सम्जना"),
    ("Sapana", "सपना", 3, "Sapna;Sapanaa", "स्वप्ना"),
    ("Dipa", "दीपा", 3, "Deepa;Dipaa", "दिपा"),
    ("Mamata", "ममता", 3, "Mamta;Mamataa", "मम्ता"),
    ("Durga", "दुर्गा", 3, "Durgaa;Durgha", "दूर्गा"),
    ("Ganga", "गङ्गा", 3, "Gangaa;Gangga", "गंगा"),
    ("Saraswati", "सरस्वती", 2, "Sarswati;Saraswoti;Sarasvati", "सरस्वति"),
    ("Tulasi", "तुलसी", 2, "Tulsi;Tulashi", "तुल्सी"),
    ("Kabita", "कविता", 3, "Kavita;Kobita", "कबिता"),
    ("Sushmita", "सुस्मिता", 2, "Susmita;Sushmitaa", "सुष्मिता"),
    ("Ranjana", "रञ्जना", 2, "Ranjanaa;Ranjna", "रन्जना;रंजना"),
    ("Pramila", "प्रमिला", 2, "Promila;Pramilaa", "प्रमीला"),
    ("Nisha", "निशा", 3, "Nisa;Neesha", "निसा"),
    ("Sunmaya", "सुनमाया", 3, "Sun Maya;Sunmaaya", "सुन माया"),
    ("Phulmaya", "फूलमाया", 3, "Phul Maya;Fulmaya", "फुलमाया"),
    ("Dolma", "डोल्मा", 2, "Dolmaa;Dholma", "डोलमा"),
    ("Hira", "हीरा", 2, "Heera;Hiraa", "हिरा"),
    ("Rekha", "रेखा", 2, "Rekhaa;Rekaha", "रेखे"),
    ("Shanti", "शान्ति", 2, "Santi;Shanty", "शान्ती;शांति"),
    ("Urmila", "उर्मिला", 2, "Urmilaa;Urmeela", "उर्मीला"),
    ("Menuka", "मेनुका", 2, "Menukaa;Maneka", "मेनूका"),
    ("Bindu", "बिन्दु", 2, "Bindoo;Vindu", "विन्दु"),
    ("Jyoti", "ज्योति", 2, "Jyotee;Joti", "ज्योती"),
    ("Sabitri", "सावित्री", 2, "Savitri;Sabitree", "साबित्री"),
    ("Rupa", "रूपा", 2, "Roopa;Rupaa", "रुपा"),
    ("Chameli", "चमेली", 1, "Chamelee;Chamely", "चमेलि"),
    ("Muna", "मुना", 2, "Moona;Munaa", "मूना"),
    ("Bishnu Maya", "विष्णु माया", 2, "Bishnumaya;Bisnu Maya", "बिष्णु माया"),
    ("Kumari", "कुमारी", 2, "Kumaree;Kumary", "कुमारि"),
    ("Pasang", "पासाङ", 2, "Pasaang;Pasong", "पासांग"),
    ("Mingma", "मिङ्मा", 1, "Mingmaa;Mimgma", "मिंमा"),
    ("Sanu", "सानु", 2, "Saanu;Sanoo", "सानू"),
)

_MALE_GIVEN = (
    ("Ram", "राम", 6, "Raam;Rama", "रामु"),
    ("Hari", "हरि", 5, "Haree;Hary", "हरी"),
    ("Krishna", "कृष्ण", 5, "Krisna;Kishna;Krishn", "कृष्णा;क्रिष्ण"),
    ("Shyam", "श्याम", 4, "Syam;Shyaam", "स्याम"),
    ("Bikash", "विकास", 4, "Bikas;Vikash;Bikaas", "बिकास"),
    ("Rajesh", "राजेश", 3, "Rajes;Raajesh", "राजेस"),
    ("Suresh", "सुरेश", 3, "Sures;Surresh", "सुरेस"),
    ("Ramesh", "रमेश", 3, "Rames;Ramesha", "रमेस"),
    ("Dipak", "दीपक", 3, "Deepak;Dipaak", "दिपक"),
    ("Sanjay", "सञ्जय", 3, "Sanjaya;Sanjai", "संजय;सन्जय"),
    ("Binod", "विनोद", 3, "Vinod;Binodh", "बिनोद"),
    ("Santosh", "सन्तोष", 3, "Santos;Santhosh", "संतोष;सन्तोस"),
    ("Bishnu", "विष्णु", 3, "Bisnu;Vishnu", "बिष्णु"),
    ("Gopal", "गोपाल", 2, "Gopaal;Gopall", "गोपल"),
    ("Prakash", "प्रकाश", 3, "Prakas;Parkash", "प्रकास"),
    ("Man Bahadur", "मान बहादुर", 5, "Man Bdr;Manbahadur;Man Bahadure", "मानबहादुर;मान ब."),
    ("Dil Bahadur", "दिल बहादुर", 4, "Dil Bdr;Dilbahadur", "दिलबहादुर;दिल ब."),
    ("Hari Bahadur", "हरि बहादुर", 3, "Hari Bdr;Haribahadur", "हरिबहादुर;हरी बहादुर"),
    ("Krishna Bahadur", "कृष्ण बहादुर", 3, "Krishna Bdr;Krisna Bahadur", "कृष्णबहादुर"),
    ("Raju", "राजु", 3, "Raaju;Rajoo", "राजू"),
    ("Sunil", "सुनिल", 3, "Suneel;Sunill", "सुनील"),
    ("Anil", "अनिल", 2, "Aneel;Anill", "अनील"),
    ("Arjun", "अर्जुन", 2, "Arjoon;Arjuna", "अर्जून"),
    ("Nabin", "नवीन", 3, "Naveen;Nabeen;Navin", "नबिन;नविन"),
    ("Dinesh", "दिनेश", 2, "Dines;Deenesh", "दिनेस"),
    ("Mohan", "मोहन", 2, "Mohon;Mohaan", "मोहान"),
    ("Tek Bahadur", "टेक बहादुर", 2, "Tek Bdr;Tekbahadur", "टेकबहादुर"),
    ("Nima", "निमा", 2, "Neema;Nimaa", "नीमा"),
    ("Dawa", "दावा", 2, "Daawa;Dawaa", "दाबा"),
    ("Pemba", "पेम्बा", 2, "Pempa;Pembaa", "पेम्वा"),
    ("Kiran", "किरण", 2, "Kiron;Kiraan", "किरन"),
    ("Sagar", "सागर", 2, "Saagar;Sagor", "सागार"),
    ("Roshan", "रोशन", 2, "Rosan;Roshaan", "रोसन"),
    ("Purna", "पूर्ण", 2, "Poorna;Purn", "पुर्ण"),
    ("Rabin", "रबिन", 2, "Robin;Ravin", "रविन"),
    ("Ganesh", "गणेश", 2, "Ganes;Ganesha", "गनेश"),
    ("Bhim", "भीम", 2, "Bheem;Bhima", "भिम"),
    ("Lakpa", "लाक्पा", 2, "Lhakpa;Lakpaa", "ल्हाक्पा;लाक्पे"),
    ("Suman", "सुमन", 2, "Sumon;Sumaan", "सुमान"),
    ("Mingma", "मिङ्मा", 1, "Mingmaa;Mimgma", "मिंमा"),
)

# Surnames with their coarse group. Several surnames are shared by groups (Thapa: Chhetri or
# Magar); the group here is the commoner one among survivors registered by agencies.
_SURNAMES = (
    ("Tamang", "तामाङ", 14, "Tamange;Taamang;Tamag", "तामांग;तमाङ", "hill_janajati"),
    ("Shrestha", "श्रेष्ठ", 7, "Shresta;Srestha;Shrestho", "श्रेष्ट;स्रेष्ठ", "newar"),
    ("Thapa", "थापा", 7, "Thappa;Thaapa", "थप्पा", "hill_brahmin_chhetri"),
    ("Magar", "मगर", 7, "Magor;Maagar", "मगार", "hill_janajati"),
    ("Rai", "राई", 5, "Rae;Raai", "राइ", "hill_janajati"),
    ("Gurung", "गुरुङ", 5, "Gurang;Grung;Gurunge", "गुरुंग;गुरूङ", "hill_janajati"),
    ("BK", "वि.क.", 5, "B.K.;Bk;B K", "बि.क.;विक", "dalit"),
    (
        "Bishwokarma",
        "विश्वकर्मा",
        4,
        "Biswakarma;Bishwakarma;Vishwakarma",
        "बिश्वकर्मा;विश्वकर्म",
        "dalit",
    ),
    ("Pariyar", "परियार", 3, "Pariar;Pariyaar", "परीयार", "dalit"),
    ("Nepali", "नेपाली", 4, "Nepalee;Nepaly", "नेपालि", "dalit"),
    ("Sherpa", "शेर्पा", 3, "Serpa;Sharpa", "सेर्पा;शेरपा", "hill_janajati"),
    ("Lama", "लामा", 4, "Laama;Lamma", "लमा", "hill_janajati"),
    ("Yadav", "यादव", 4, "Yadab;Jadav;Yaadav", "यादब", "madhesi"),
    ("Chaudhary", "चौधरी", 5, "Chaudhari;Choudhary;Chaudhry", "चौधरि;चौधारी", "tarai_janajati"),
    ("Tharu", "थारू", 3, "Tharoo;Taru", "थारु", "tarai_janajati"),
    ("Karki", "कार्की", 3, "Karkee;Karky", "कार्कि", "hill_brahmin_chhetri"),
    ("Adhikari", "अधिकारी", 3, "Adhikary;Adhikaree", "अधिकारि", "hill_brahmin_chhetri"),
    ("Khadka", "खड्का", 3, "Khadga;Khadaka", "खड्गा", "hill_brahmin_chhetri"),
    ("Bhandari", "भण्डारी", 2, "Bhandary;Vandari", "भंडारी;भन्डारी", "hill_brahmin_chhetri"),
    ("Poudel", "पौडेल", 2, "Paudel;Paudyal;Poudyal", "पौड्याल;पौडेल्", "hill_brahmin_chhetri"),
    ("KC", "के.सी.", 3, "K.C.;Kc;K C", "केसी", "hill_brahmin_chhetri"),
    ("Ghimire", "घिमिरे", 2, "Ghimirey;Ghimere", "घिमीरे", "hill_brahmin_chhetri"),
    ("Sharma", "शर्मा", 2, "Sarma;Sharmaa", "सर्मा", "hill_brahmin_chhetri"),
    ("Basnet", "बस्नेत", 2, "Basnyat;Basnett", "बस्न्यात", "hill_brahmin_chhetri"),
    ("Khatri", "खत्री", 2, "Khattri;Katri", "खत्रि", "hill_brahmin_chhetri"),
    ("Rana", "राना", 2, "Raana;Ranaa", "रना", "hill_janajati"),
    ("Syangtan", "स्याङ्तान", 2, "Syangtang;Shyangtan", "स्यांतान", "hill_janajati"),
    ("Moktan", "मोक्तान", 3, "Moktang;Moktaan;Mokatan", "मोक्ताङ;मोक्तन", "hill_janajati"),
    ("Ghale", "घले", 2, "Ghalay;Ghaley", "घाले", "hill_janajati"),
    ("Limbu", "लिम्बू", 2, "Limbo;Limboo", "लिम्बु", "hill_janajati"),
    ("Sunar", "सुनार", 2, "Sonar;Sunaar", "सुनर", "dalit"),
    ("Damai", "दमाई", 2, "Damae;Damaai", "दमाइ", "dalit"),
    ("Sarki", "सार्की", 2, "Sarkee;Sarky", "सार्कि", "dalit"),
    ("Mahato", "महतो", 2, "Mahto;Mahatto", "महातो", "madhesi"),
    ("Sah", "साह", 2, "Shah;Saha", "शाह", "madhesi"),
    ("Mandal", "मण्डल", 2, "Mandol;Mondal", "मंडल;मन्डल", "madhesi"),
    ("Ansari", "अन्सारी", 2, "Ansaree;Ansary", "अंसारी", "muslim"),
    ("Khatun", "खातुन", 1, "Khatoon;Khaatun", "खातून", "muslim"),
    ("Maharjan", "महर्जन", 2, "Maharajan;Maharjaan", "महर्जान", "newar"),
    ("Dangol", "डंगोल", 1, "Dangole;Dangaul", "डँगोल", "newar"),
    ("Pakhrin", "पाख्रिन", 2, "Pakhrim;Pakhreen", "पाख्रीन", "hill_janajati"),
    ("Waiba", "वाइबा", 1, "Waibaa;Vaiba", "वाईबा", "hill_janajati"),
    ("Dhakal", "ढकाल", 1, "Dhakaal;Dakal", "ढकल", "hill_brahmin_chhetri"),
    ("Bohara", "बोहरा", 1, "Bohora;Bohra", "बोहोरा", "hill_brahmin_chhetri"),
    ("Sada", "सदा", 1, "Sadaa;Sadha", "सादा", "madhesi"),
)


@dataclass(frozen=True)
class NameTable:
    """One name list as parallel arrays; row i of every array describes name i.

    `latin_forms[i]` / `devanagari_forms[i]` start with the canonical spelling followed by its
    variants, so "a variant" of name i is any form with index >= 1.
    """

    latin: np.ndarray  # object array of canonical Latin spellings
    devanagari: np.ndarray  # object array of canonical Devanagari spellings
    probabilities: np.ndarray  # sampling probability of each name (sums to 1)
    latin_forms: tuple[tuple[str, ...], ...]
    devanagari_forms: tuple[tuple[str, ...], ...]
    groups: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.latin)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Indices of `size` names drawn with the table's frequency skew."""
        return rng.choice(len(self.latin), size=size, p=self.probabilities)


# Single-letter substitutions that Nepali writers make in Devanagari for the same name.
_DEVANAGARI_SWAPS = (
    ("ी", "ि"),
    ("ि", "ी"),
    ("ू", "ु"),
    ("ु", "ू"),
    ("व", "ब"),
    ("ब", "व"),
    ("ष", "स"),
    ("श", "स"),
    ("ङ", "ं"),
    ("ण", "न"),
    ("ञ्", "न्"),
)


def devanagari_rule_variants(word: str) -> tuple[str, ...]:
    """Spellings of a Devanagari name reachable by one common substitution (ordered, unique)."""
    seen: dict[str, None] = {}
    for old, new in _DEVANAGARI_SWAPS:
        if old in word:
            candidate = word.replace(old, new, 1)
            if candidate != word:
                seen.setdefault(candidate, None)
    return tuple(seen)


def _forms(canonical: str, listed: str, derive: bool) -> tuple[str, ...]:
    variants = [v.strip() for v in listed.split(";") if v.strip() and v.strip() != canonical]
    if derive and not variants:
        variants = list(devanagari_rule_variants(canonical))
    # Order-preserving de-duplication: dict keeps insertion order (sets would not be stable).
    return (canonical, *dict.fromkeys(variants))


def _table(rows: tuple[tuple, ...]) -> NameTable:
    weights = np.array([float(r[2]) for r in rows])
    latin_forms = tuple(_forms(r[0], r[3], derive=False) for r in rows)
    devanagari_forms = tuple(_forms(r[1], r[4], derive=True) for r in rows)
    for row in rows:
        if len(row) > 5 and row[5] not in CASTE_ETHNICITY_GROUPS:
            raise ValueError(f"surname {row[0]!r} has unknown group {row[5]!r}")
    for forms in (*latin_forms, *devanagari_forms):
        if len(forms) < 2:  # the generator relies on every name having a variant
            raise ValueError(f"name {forms[0]!r} has no spelling variant")
    return NameTable(
        latin=np.array([r[0] for r in rows], dtype=object),
        devanagari=np.array([r[1] for r in rows], dtype=object),
        probabilities=weights / weights.sum(),
        latin_forms=latin_forms,
        devanagari_forms=devanagari_forms,
        groups=tuple(r[5] if len(r) > 5 else "" for r in rows),
    )


@cache
def female_given_names() -> NameTable:
    """Given names of women and girls."""
    return _table(_FEMALE_GIVEN)


@cache
def male_given_names() -> NameTable:
    """Given names of men and boys (also used for fathers' names)."""
    return _table(_MALE_GIVEN)


@cache
def surnames() -> NameTable:
    """Family names (caste/ethnic surnames) with their coarse group."""
    return _table(_SURNAMES)


@cache
def given_names() -> tuple[NameTable, int]:
    """Female then male given names in one table, and the index where the male names start.

    One table lets a record's given name and father's name share the same index space.
    """
    female, male = female_given_names(), male_given_names()
    combined = NameTable(
        latin=np.concatenate([female.latin, male.latin]),
        devanagari=np.concatenate([female.devanagari, male.devanagari]),
        probabilities=np.concatenate([female.probabilities, male.probabilities]) / 2.0,
        latin_forms=female.latin_forms + male.latin_forms,
        devanagari_forms=female.devanagari_forms + male.devanagari_forms,
        groups=female.groups + male.groups,
    )
    return combined, len(female)
