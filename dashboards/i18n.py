"""Every label the dashboard shows, in English (`en`) and Nepali (`ne`).

Place names are not here: they come from the `geography` table (name_en / name_ne).
`t(key, lang)` returns the label; `label(code, lang)` names a category code and falls back to
the code itself (so a new code from the pipeline shows up rather than disappearing).
Keep numbers out of these strings: the disclosure scan treats a bare 1-4 as a leaked count.
"""

from __future__ import annotations

LANGUAGES = {"en": "English", "ne": "नेपाली"}

STRINGS: dict[str, dict[str, str]] = {
    "app_title": {"en": "Pahichan — survivor statistics", "ne": "पहिचान — प्रभावित तथ्याङ्क"},
    "language": {"en": "Language", "ne": "भाषा"},
    "filters": {"en": "Filters", "ne": "छनोट"},
    "period_type": {"en": "Period type", "ne": "अवधिको प्रकार"},
    "period": {"en": "Period", "ne": "अवधि"},
    "province": {"en": "Province", "ne": "प्रदेश"},
    "district": {"en": "District", "ne": "जिल्ला"},
    "local_level": {"en": "Local level", "ne": "स्थानीय तह"},
    "all_places": {"en": "All", "ne": "सबै"},
    "any": {"en": "Any", "ne": "सबै"},
    "nepal": {"en": "Nepal", "ne": "नेपाल"},
    # Not "National overview": the page also shows a province or a district.
    "page_overview": {"en": "Overview", "ne": "सारांश"},
    "choose": {"en": "Choose", "ne": "छान्नुहोस्"},
    "partial": {"en": "partial", "ne": "अपूर्ण"},
    "partial_period_note": {
        "en": "This period is not complete: the data run to {through}. Do not compare it "
        "with complete periods.",
        "ne": "यो अवधि पूरा भएको छैन: तथ्याङ्क {through} सम्मको मात्र हो। पूरा अवधिहरूसँग तुलना नगर्नुहोस्।",
    },
    "partial_in_chart": {
        "en": "Periods marked partial are not complete (data to {through}).",
        "ne": "अपूर्ण लेखिएका अवधि पूरा भएका छैनन् (तथ्याङ्क {through} सम्म)।",
    },
    "no_values_to_plot": {
        "en": "No figure to plot for this selection: every value is hidden or not published "
        "(see the table).",
        "ne": "यो छनोटमा देखाउन मिल्ने सङ्ख्या छैन: सबै लुकाइएका वा अप्रकाशित छन् (तालिका हेर्नुहोस्)।",
    },
    "zero": {"en": "zero", "ne": "शून्य"},
    "download_excel": {"en": "CSV for Excel", "ne": "एक्सेलका लागि CSV"},
    "rate_not_here": {
        "en": "Rates need census populations, which are shipped for the nation and the "
        "provinces only (CBS, census 2021).",
        "ne": "दरका लागि जनगणनाको जनसङ्ख्या चाहिन्छ, जुन राष्ट्र र प्रदेशका लागि मात्र छ "
        "(केन्द्रीय तथ्याङ्क विभाग, जनगणना २०७८)।",
    },
    "last_run": {"en": "Last run", "ne": "पछिल्लो रन"},
    "last_publication": {"en": "Last publication (UTC)", "ne": "पछिल्लो प्रकाशन (UTC)"},
    "operations_on_data_office": {
        "en": "Batch ids, agencies and rejection reasons are on the data office's dashboard "
        "(`pahichan dashboard --operations`), not in the public file.",
        "ne": "ब्याच नम्बर, निकाय र अस्वीकृतिका कारण तथ्याङ्क कार्यालयको ड्यासबोर्डमा मात्र "
        "हुन्छन्, सार्वजनिक फाइलमा होइन।",
    },
    "page_where": {"en": "Where", "ne": "कहाँ"},
    "page_services": {"en": "Services", "ne": "सेवाहरू"},
    "page_quality": {"en": "Data quality", "ne": "तथ्याङ्कको गुणस्तर"},
    "page_operations": {"en": "Batches and runs", "ne": "ब्याच र रन"},
    "operations_intro": {
        "en": "For data officers: every batch received with its status and reason, rows "
        "quarantined by rule, withdrawals, runs and the review queue. Counts of batches "
        "and rows, not of people: nothing here is suppressed, and nothing identifies a "
        "record.",
        "ne": "तथ्याङ्क अधिकृतका लागि: प्राप्त प्रत्येक ब्याच, यसको स्थिति र कारण, नियमअनुसार "
        "रोकिएका पङ्क्ति, फिर्ता, रन र समीक्षा लाइन। यी ब्याच र पङ्क्तिका गणना हुन्, "
        "व्यक्तिका होइनन्: यहाँ केही लुकाइएको छैन, र कुनै अभिलेख चिनिँदैन।",
    },
    "operations_batches": {"en": "Batches received", "ne": "प्राप्त ब्याचहरू"},
    "operations_rejected": {"en": "Rejected batches", "ne": "अस्वीकृत ब्याचहरू"},
    "operations_quarantine": {"en": "Rows quarantined, by rule", "ne": "नियमअनुसार रोकिएका पङ्क्ति"},
    "operations_withdrawals": {"en": "Withdrawals", "ne": "सहमति फिर्ता"},
    "operations_runs": {"en": "Latest runs", "ne": "पछिल्ला रनहरू"},
    "operations_review_queue": {"en": "Pairs awaiting review", "ne": "समीक्षा पर्खिरहेका जोडी"},
    "operations_none": {"en": "None.", "ne": "छैन।"},
    "survivors": {"en": "Survivors identified", "ne": "पहिचान भएका प्रभावित"},
    "new_survivors": {"en": "New this period", "ne": "यस अवधिमा नयाँ"},
    "returning_survivors": {"en": "Returning after a gap", "ne": "अन्तरालपछि फर्केका"},
    "records": {"en": "Records received", "ne": "प्राप्त अभिलेख"},
    "records_per_survivor": {"en": "Records per survivor", "ne": "प्रति प्रभावित अभिलेख"},
    "records_per_survivor_help": {
        "en": "Records before linkage divided by unique survivors after it: how much double "
        "counting across agencies linkage removed.",
        "ne": "लिङ्केजअघिका अभिलेखलाई पछिका अद्वितीय प्रभावितले भाग गर्दा: निकायहरूबीचको "
        "दोहोरो गणना कति हटाइयो।",
    },
    "share_returning": {"en": "Share returning after a gap", "ne": "अन्तरालपछि फर्केकाको अंश"},
    "share_returning_help": {
        "en": "Survivors with an earlier episode at least six months before, as a share of "
        "survivors in the period (re-trafficking indicator).",
        "ne": "कम्तीमा छ महिनाअघि पनि सेवा लिएका प्रभावित, यस अवधिका प्रभावितको अंशका रूपमा।",
    },
    # One text for every hidden cell, whatever the reason it was hidden: never the threshold.
    "hidden": {
        "en": "not shown to protect survivors",
        "ne": "प्रभावितको सुरक्षाका लागि देखाइएको छैन",
    },
    "hidden_flag": {"en": ": hidden", "ne": ": लुकाइएको"},  # CSV flag column suffix
    "not_published": {"en": "not published", "ne": "प्रकाशित छैन"},
    "no_rate": {
        "en": "no rate (population unknown or nothing published)",
        "ne": "दर छैन (जनसङ्ख्या थाहा छैन वा केही प्रकाशित छैन)",
    },
    "nothing_published": {"en": "nothing published", "ne": "केही प्रकाशित छैन"},
    "ratios_note": {
        "en": "Ratios and rates appear only where the counts behind them are shown.",
        "ne": "पछाडिका सङ्ख्या देखाइएमा मात्र अनुपात र दर देखाइन्छन्।",
    },
    "trend": {"en": "Trend", "ne": "प्रवृत्ति"},
    "breakdown": {"en": "Breakdown of survivors", "ne": "प्रभावितको वर्गीकरण"},
    "measure": {"en": "Measure", "ne": "सूचक"},
    "category": {"en": "Category", "ne": "वर्ग"},
    "value": {"en": "Count", "ne": "सङ्ख्या"},
    "place": {"en": "Place", "ne": "स्थान"},
    "rate": {"en": "Per 100,000 people", "ne": "प्रति एक लाख जनसङ्ख्या"},
    "no_data": {
        "en": "Nothing published for this selection.",
        "ne": "यो छनोटका लागि केही प्रकाशित छैन।",
    },
    "download": {"en": "Download CSV", "ne": "CSV डाउनलोड"},
    "showing": {"en": "Showing", "ne": "देखाइएको"},
    "all_survivors": {"en": "all survivors", "ne": "सबै प्रभावित"},
    "breakdown_not_published_here": {
        "en": "Figures by sex, age band or exploitation type are published for the nation and "
        "the provinces, by year and fiscal year: finer cells would be nearly all too small "
        "to show. Figures below are for all survivors.",
        "ne": "लिङ्ग, उमेर समूह वा शोषणको प्रकार अनुसारका तथ्याङ्क राष्ट्र र प्रदेशका लागि, वर्ष र "
        "आर्थिक वर्ष अनुसार मात्र प्रकाशित हुन्छन्: साना कोठा प्रायः देखाउन नमिल्ने हुन्छन्। "
        "तलका तथ्याङ्क सबै प्रभावितका हुन्।",
    },
    "period_types_here": {
        "en": "Districts are published by year and fiscal year only.",
        "ne": "जिल्लाका तथ्याङ्क वर्ष र आर्थिक वर्ष अनुसार मात्र प्रकाशित हुन्छन्।",
    },
    "combination_not_published": {
        "en": "Combinations of sex, age band and exploitation type are not published: crossing "
        "them makes cells small enough to single people out (disclosure control). "
        "Choose one of them; figures below are for all survivors.",
        "ne": "लिङ्ग, उमेर समूह र शोषणको प्रकारका संयोजन प्रकाशित गरिँदैनन्: तिनलाई जोड्दा "
        "व्यक्ति चिनिन सक्ने साना कोठा बन्छन्। एउटा मात्र छान्नुहोस्; तलका तथ्याङ्क सबै "
        "प्रभावितका हुन्।",
    },
    "breakdown_not_filtered": {
        "en": "Breakdowns are published one dimension at a time, so they show all survivors "
        "at this place, not only the category chosen in the sidebar.",
        "ne": "वर्गीकरण एक पटकमा एउटा आयाममा मात्र प्रकाशित हुन्छ, त्यसैले यहाँ छानिएको "
        "वर्ग मात्र होइन सबै प्रभावित देखिन्छन्।",
    },
    "no_demographics_here": {
        "en": "Service and referral figures are not broken down by sex, age or exploitation "
        "type; the demographic filters do not apply on this page.",
        "ne": "सेवा र प्रेषणका तथ्याङ्क लिङ्ग, उमेर वा शोषणका आधारमा छुट्याइँदैनन्; यस पृष्ठमा ती छनोट लागू हुँदैनन्।",
    },
    "map_title": {"en": "Survivors by place", "ne": "स्थान अनुसार प्रभावित"},
    "map_level": {"en": "Map of", "ne": "नक्सा"},
    "map_colour": {"en": "Colour by", "ne": "रङ"},
    "map_counts": {"en": "Count", "ne": "सङ्ख्या"},
    "map_rates": {"en": "Rate per 100,000", "ne": "प्रति एक लाख दर"},
    "map_note": {
        "en": "Red shades: counts (the palest is zero). Slate blue: not shown to protect "
        "survivors. Light grey: nothing published. Boundaries are simplified and for "
        "display only.",
        "ne": "रातो रङ: सङ्ख्या (सबैभन्दा फिक्का शून्य)। नीलो-खैरो: प्रभावितको सुरक्षाका लागि "
        "देखाइएको छैन। हल्का खैरो: केही प्रकाशित छैन। सीमाहरू सरलीकृत र प्रदर्शनका लागि मात्र।",
    },
    "drill_hint": {
        "en": "Choose a province, then a district in the sidebar to drill down.",
        "ne": "तल झर्न साइडबारमा प्रदेश, त्यसपछि जिल्ला छान्नुहोस्।",
    },
    "services_by_type": {"en": "Services given by type", "ne": "प्रकार अनुसार सेवा"},
    "services_by_tier": {"en": "Services by tier", "ne": "तह अनुसार सेवा"},
    "service": {"en": "Service", "ne": "सेवा"},
    "tier": {"en": "Tier", "ne": "तह"},
    "survivors_served": {"en": "Survivors served", "ne": "सेवा पाएका प्रभावित"},
    "services_given": {"en": "Services given", "ne": "दिइएका सेवा"},
    "referrals_title": {"en": "Referrals between agency types", "ne": "निकायबीच प्रेषण"},
    "referrals": {"en": "Referrals", "ne": "प्रेषण"},
    "referrals_confirmed": {"en": "Referrals confirmed", "ne": "पुष्टि भएका प्रेषण"},
    "from_agency": {"en": "Referred from", "ne": "प्रेषण गर्ने"},
    "to_agency": {"en": "Referred to", "ne": "प्रेषण पाउने"},
    "referrals_scope": {
        "en": "Referrals are published for Nepal and provinces only.",
        "ne": "प्रेषण नेपाल र प्रदेश तहमा मात्र प्रकाशित हुन्छ।",
    },
    "quality_intro": {
        "en": "For data officers: batches, quarantine and linkage, as published.",
        "ne": "तथ्याङ्क अधिकृतका लागि: ब्याच, क्वारेन्टिन र लिङ्केज।",
    },
    "freshness": {"en": "Freshness", "ne": "ताजापन"},
    "published_at": {"en": "Published at (UTC)", "ne": "प्रकाशित समय (UTC)"},
    "data_through": {"en": "Data through", "ne": "तथ्याङ्क सम्म"},
    "run_id": {"en": "Run", "ne": "रन"},
    "model_version": {"en": "Linkage model", "ne": "लिङ्केज मोडेल"},
    "batches": {"en": "Batches", "ne": "ब्याच"},
    "rows": {"en": "Rows", "ne": "पङ्क्ति"},
    "linkage_summary": {"en": "Linkage", "ne": "लिङ्केज"},
    "quarantine_title": {"en": "Rows quarantined by reason", "ne": "कारण अनुसार क्वारेन्टिन पङ्क्ति"},
    "month": {"en": "Month", "ne": "महिना"},
    "source_type": {"en": "Source", "ne": "स्रोत"},
    "metric": {"en": "Metric", "ne": "मापन"},
    "rule": {"en": "Rule", "ne": "नियम"},
    # --- reintegration page ---
    "page_reintegration": {"en": "Reintegration", "ne": "पुनर्एकीकरण"},
    "provisional_note": {
        "en": "Provisional score: the indicator weights are equal placeholders, so this is "
        "Pahichan's provisional reintegration score, NOT IOM's Reintegration "
        "Sustainability Score, and scores of different indicator versions cannot be "
        "compared.",
        "ne": "अस्थायी अङ्क: सूचकका भार अस्थायी रूपमा बराबर राखिएका छन्, त्यसैले यो पहिचानको "
        "अस्थायी पुनर्एकीकरण अङ्क हो, IOM को पुनर्एकीकरण दिगोपन अङ्क होइन; फरक संस्करणका "
        "अङ्क तुलना गर्न मिल्दैन।",
    },
    "survivors_scored": {"en": "Survivors scored", "ne": "अङ्क पाएका प्रभावित"},
    "mean_score": {"en": "Mean score (composite)", "ne": "औसत अङ्क (समग्र)"},
    "mean_score_pct": {"en": "Mean score", "ne": "औसत अङ्क"},
    "mean_score_help": {
        "en": "Mean of survivors' latest composite score in the period, out of a hundred; "
        "published only where enough survivors were scored.",
        "ne": "यस अवधिमा प्रभावितको पछिल्लो समग्र अङ्कको औसत (सयमा); पर्याप्त प्रभावितको अङ्क "
        "भएमा मात्र प्रकाशित।",
    },
    "followed_6m": {"en": "Followed up within six months", "ne": "छ महिनाभित्र अनुगमन"},
    "followed_12m": {"en": "Followed up within a year", "ne": "एक वर्षभित्र अनुगमन"},
    "followed_help": {
        "en": "Survivors of the chosen period's first-contact cohort with a follow-up visit "
        "in time, as a share of that cohort (both counts published).",
        "ne": "छानिएको अवधिमा पहिलो सम्पर्क भएका मध्ये समयमै अनुगमन भ्रमण भएकाको अंश (दुवै "
        "सङ्ख्या प्रकाशित भएमा)।",
    },
    "referral_completion": {"en": "Referral completion", "ne": "प्रेषण पूरा भएको दर"},
    "referral_completion_help": {
        "en": "Referrals confirmed by a later record at the receiving agency type, as a share "
        "of referrals made; shown per pair only where both counts were published.",
        "ne": "प्रेषण पाउने निकायको पछिल्लो अभिलेखले पुष्टि गरेका प्रेषणको अंश; दुवै सङ्ख्या "
        "प्रकाशित भएका जोडीमा मात्र।",
    },
    "score_distribution": {"en": "Survivors by score band", "ne": "अङ्क समूह अनुसार प्रभावित"},
    "score_trend": {"en": "Mean score over time", "ne": "समयसँगै औसत अङ्क"},
    "score_dimension": {"en": "Score", "ne": "अङ्क"},
    "band": {"en": "Score band", "ne": "अङ्क समूह"},
    "coverage_title": {
        "en": "Follow-up coverage by first-contact cohort",
        "ne": "पहिलो सम्पर्क समूह अनुसार अनुगमन",
    },
    "cohort": {"en": "First contact in", "ne": "पहिलो सम्पर्क"},
    "survivors_first_contact": {"en": "Survivors first met", "ne": "पहिलो पटक भेटिएका"},
    "followed_within_6m": {"en": "Followed within six months", "ne": "छ महिनाभित्र अनुगमन"},
    "followed_within_12m": {"en": "Followed within a year", "ne": "एक वर्षभित्र अनुगमन"},
    "share_6m": {"en": "Share within six months", "ne": "छ महिनाभित्रको अंश"},
    "share_12m": {"en": "Share within a year", "ne": "एक वर्षभित्रको अंश"},
    "completion": {"en": "Completion", "ne": "पूरा भएको दर"},
    "reintegration_scope": {
        "en": "Follow-up coverage and referrals are published for Nepal and provinces only.",
        "ne": "अनुगमन र प्रेषण नेपाल र प्रदेश तहमा मात्र प्रकाशित हुन्छन्।",
    },
    "not_yet_published": {
        "en": "Reintegration figures are not in this publication yet (the pipeline publishes "
        "them once follow-up visits arrive).",
        "ne": "पुनर्एकीकरणका तथ्याङ्क यो प्रकाशनमा अझै छैनन्।",
    },
    "missing_db": {
        "en": "No public file found at {path}. Run the pipeline or set PAHICHAN_PUBLIC_DB.",
        "ne": "{path} मा सार्वजनिक फाइल भेटिएन। पाइपलाइन चलाउनुहोस् वा PAHICHAN_PUBLIC_DB राख्नुहोस्।",
    },
}

CODE_LABELS: dict[str, dict[str, str]] = {
    # dimensions
    "sex": {"en": "Sex", "ne": "लिङ्ग"},
    "age_band": {"en": "Age band", "ne": "उमेर समूह"},
    "exploitation_type": {"en": "Exploitation type", "ne": "शोषणको प्रकार"},
    "destination_country": {"en": "Destination", "ne": "गन्तव्य"},
    "agency_type": {"en": "Agency type", "ne": "निकायको प्रकार"},
    # period types
    "month": {"en": "Month", "ne": "महिना"},
    "quarter": {"en": "Quarter", "ne": "त्रैमास"},
    "year": {"en": "Year", "ne": "वर्ष"},
    "bs_month": {"en": "Month (Bikram Sambat)", "ne": "महिना (विक्रम संवत्)"},
    "bs_fiscal_year": {"en": "Fiscal year (from Shrawan)", "ne": "आर्थिक वर्ष (साउनदेखि)"},
    # sex
    "F": {"en": "Female", "ne": "महिला"},
    "M": {"en": "Male", "ne": "पुरुष"},
    "O": {"en": "Other", "ne": "अन्य"},
    # exploitation types
    "sexual_exploitation": {"en": "Sexual exploitation", "ne": "यौन शोषण"},
    "forced_labour": {"en": "Forced labour", "ne": "जबरजस्ती श्रम"},
    "forced_marriage": {"en": "Forced marriage", "ne": "जबरजस्ती विवाह"},
    "organ_removal": {"en": "Organ removal", "ne": "अङ्ग निकासी"},
    "other": {"en": "Other", "ne": "अन्य"},
    "unknown": {"en": "Unknown", "ne": "अज्ञात"},
    # destinations
    "NP": {"en": "Nepal (internal)", "ne": "नेपाल (आन्तरिक)"},
    "IN": {"en": "India", "ne": "भारत"},
    "MY": {"en": "Malaysia", "ne": "मलेसिया"},
    "AE": {"en": "United Arab Emirates", "ne": "संयुक्त अरब इमिरेट्स"},
    "KW": {"en": "Kuwait", "ne": "कुवेत"},
    "SA": {"en": "Saudi Arabia", "ne": "साउदी अरब"},
    "QA": {"en": "Qatar", "ne": "कतार"},
    "KR": {"en": "South Korea", "ne": "दक्षिण कोरिया"},
    # agency types
    "shelter": {"en": "Shelter", "ne": "आश्रय गृह"},
    "ocmc": {"en": "OCMC", "ne": "ओसीएमसी"},
    "migration": {"en": "Migration agency", "ne": "वैदेशिक रोजगार निकाय"},
    "police": {"en": "Police", "ne": "प्रहरी"},
    # tiers
    "immediate": {"en": "Immediate", "ne": "तत्काल"},
    "short_term": {"en": "Short term", "ne": "छोटो अवधि"},
    "long_term": {"en": "Long term", "ne": "लामो अवधि"},
    # services: labels come from schemas.vocabularies.SERVICES (one definition)
    # reintegration score dimensions and bands
    "composite": {"en": "Composite", "ne": "समग्र"},
    "economic": {"en": "Economic", "ne": "आर्थिक"},
    "social": {"en": "Social", "ne": "सामाजिक"},
    "psychosocial_score": {"en": "Psychosocial", "ne": "मनोसामाजिक"},
    "score_band_0_25": {"en": "Under 25", "ne": "२५ भन्दा कम"},
    "score_band_25_50": {"en": "25 to under 50", "ne": "२५ देखि ५० भन्दा कम"},
    "score_band_50_75": {"en": "50 to under 75", "ne": "५० देखि ७५ भन्दा कम"},
    "score_band_75_100": {"en": "75 to 100", "ne": "७५ देखि १००"},
    "services_received": {"en": "Services received", "ne": "पाएका सेवा"},
    # quality metrics
    "batches_received": {"en": "Batches received", "ne": "प्राप्त ब्याच"},
    "batches_accepted": {"en": "Batches accepted", "ne": "स्वीकृत ब्याच"},
    "batches_rejected": {"en": "Batches rejected", "ne": "अस्वीकृत ब्याच"},
    "rows_received": {"en": "Rows received", "ne": "प्राप्त पङ्क्ति"},
    "rows_loaded": {"en": "Rows loaded", "ne": "लोड भएका पङ्क्ति"},
    "rows_quarantined": {"en": "Rows quarantined", "ne": "क्वारेन्टिन पङ्क्ति"},
    "auto_links": {"en": "Automatic links", "ne": "स्वचालित लिङ्क"},
    "review_pairs": {"en": "Pairs awaiting review", "ne": "समीक्षा पर्खिरहेका जोडी"},
}


def t(key: str, lang: str = "en", **values: object) -> str:
    """The UI label `key` in `lang` (English when a Nepali label is missing)."""
    entry = STRINGS[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text


def _vocabulary_labels() -> dict[str, dict[str, str]]:
    """Labels of every code in `schemas.vocabularies` (the one definition of the codes the
    pipeline stores), so a published code is never shown raw."""
    from schemas import vocabularies as v

    pairs = [
        (v.SEX_LABELS, v.SEX_LABELS_NE),
        (v.EXPLOITATION_TYPES, v.EXPLOITATION_TYPES_NE),
        (v.AGENCY_TYPES, v.AGENCY_TYPES_NE),
        (
            {c: s.label_en for c, s in v.SERVICES.items()},
            {c: s.label_ne for c, s in v.SERVICES.items()},
        ),
        (v.RECORD_KINDS, v.RECORD_KINDS_NE),
        (v.COUNTRIES, v.COUNTRIES_NE),
    ]
    labels: dict[str, dict[str, str]] = {}
    for english, nepali in pairs:
        for code, text in english.items():
            labels.setdefault(code, {"en": text, "ne": nepali.get(code, "")})
    return labels


# Vocabulary labels first; CODE_LABELS names what the vocabularies do not (dimensions,
# period types, measures) and keeps its own wording where a screen needs it shorter.
ALL_CODE_LABELS: dict[str, dict[str, str]] = _vocabulary_labels() | CODE_LABELS


def label(code: object, lang: str = "en") -> str:
    """A readable name for a category/metric code; the code itself when unknown."""
    text = str(code)
    entry = ALL_CODE_LABELS.get(text)
    if entry is None:
        return text
    return entry.get(lang) or entry["en"]
