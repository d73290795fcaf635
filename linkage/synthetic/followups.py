"""Reintegration follow-up visits: who is followed up, when, and what they answer.

Grain of the visits `plan_followups` returns: one element per follow-up visit held (one
future extract row with `record_kind = followup`), in the `Episodes` structure so that the
record writer spells names, dates and places exactly as for contact episodes.

Who: per person, the agencies of the first journey are asked in the order the person met
them; the first that enrols the person (`SynthConfig.followup_enrol_rate`, mostly shelters
and the migration agency) does every visit. When: at `followup_months` after the person's
first contact (never before the enrolling contact), moved by a few weeks, with drop-out
(lost from then on), missed single visits, and nothing after `last_contact` (censoring).

What: each enrolled person follows one trajectory (`trajectory_shares`) of a latent
reintegration level on 0..1 at month t (f = (t - 3) / 21, 0 at the first visit, 1 at 24 months):

- improving: base ~ U(.15, .40), rises by U(.30, .45) x f;
- stalling:  base ~ U(.30, .55), flat;
- crisis:    base ~ U(.50, .70), falls by U(.25, .40) x f;
- setback:   base ~ U(.20, .40), +.20 by 6 months, then at 12 months falls by U(.30, .40)
  below that peak and recovers .04 per 6 months.

Each person's three dimensions sit around that level (person offset ~ N(0, .06), visit
noise ~ N(0, .03)); each indicator's answer is the scale option nearest to the dimension
level plus N(0, .12), flipped for indicators where a higher answer is worse. So the
provisional composite score (`schemas.reintegration`) follows the trajectory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.synthetic import corruption
from linkage.synthetic.config import SOURCE_TYPES, SynthConfig
from linkage.synthetic.episodes import FOLLOWUP, NO_REFERRAL, Episodes
from schemas.reintegration import DIMENSIONS, load_indicator_config

TRAJECTORIES: tuple[str, ...] = ("improving", "stalling", "crisis", "setback")
NO_TRAJECTORY = -1
_DAYS_PER_MONTH = 30.4369
_SETBACK_MONTH = 12


@dataclass(frozen=True)
class FollowupPlan:
    """The visits held, and per PERSON the trajectory (index into TRAJECTORIES or -1)."""

    visits: Episodes
    trajectory: np.ndarray
    monitoring_source: np.ndarray  # per person: index into SOURCE_TYPES, or -1


def _levels(trajectory: np.ndarray, months: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Latent level (persons x visits) of each enrolled person's trajectory at `months`."""
    count = len(trajectory)
    f = ((months - months[0]) / max(months[-1] - months[0], 1))[None, :]
    u1, u2 = rng.random(count)[:, None], rng.random(count)[:, None]
    improving = 0.15 + 0.25 * u1 + (0.30 + 0.15 * u2) * f
    stalling = 0.30 + 0.25 * u1 + 0.0 * f
    crisis = 0.50 + 0.20 * u1 - (0.25 + 0.15 * u2) * f
    early = np.clip((months - months[0]) / 3.0, 0.0, 1.0)[None, :]
    peak = 0.20 + 0.20 * u1 + 0.20 * early
    after = months[None, :] >= _SETBACK_MONTH
    recovery = 0.04 * np.maximum(months[None, :] - _SETBACK_MONTH, 0) / 6.0
    setback = np.where(after, 0.40 + 0.20 * u1 - (0.30 + 0.10 * u2) + recovery, peak)
    shapes = np.stack([improving, stalling, crisis, setback])  # trajectory x person x visit
    return shapes[trajectory[:, None], np.arange(count)[:, None], np.arange(len(months))[None, :]]


def plan_followups(
    episodes: Episodes, config: SynthConfig, rng: np.random.Generator
) -> FollowupPlan:
    """Enrol persons in follow-up, draw their trajectory and the visits actually held."""
    persons_total = len(episodes.first_contact)
    rates = np.array([config.followup_enrol_rate[s] for s in SOURCE_TYPES])
    enrols = (episodes.journey == 0) & (rng.random(len(episodes)) < rates[episodes.source])
    candidates = np.flatnonzero(enrols)
    order = np.lexsort(
        (episodes.contact_date[candidates].astype(np.int64), episodes.person[candidates])
    )
    candidates = candidates[order]
    persons, first = np.unique(episodes.person[candidates], return_index=True)
    chosen = candidates[first]
    source = episodes.source[chosen]
    enrol_date = episodes.contact_date[chosen]
    count = len(persons)

    trajectory = corruption.choose(rng, tuple(config.trajectory_shares.values()), count)
    months = np.array(config.followup_months, dtype=float)
    visits = len(months)
    jitter = rng.integers(
        -config.followup_jitter_days, config.followup_jitter_days + 1, size=(count, visits)
    )
    offset = np.round(months * _DAYS_PER_MONTH).astype(np.int64)[None, :] + jitter
    dates = episodes.first_contact[persons][:, None] + offset.astype("timedelta64[D]")
    dates = np.maximum(dates, (enrol_date + np.timedelta64(7, "D"))[:, None])
    dropped = rng.random((count, visits)) < config.followup_dropout_rate
    still_enrolled = np.cumprod(~dropped, axis=1).astype(bool)
    missed = rng.random((count, visits)) < config.followup_missed_rate
    held = still_enrolled & ~missed & (dates <= np.datetime64(config.last_contact))

    level = _levels(trajectory, months, rng)
    offsets = rng.normal(0.0, 0.06, size=(count, 1, len(DIMENSIONS)))
    noise = rng.normal(0.0, 0.03, size=(count, visits, len(DIMENSIONS)))
    latent = np.clip(level[:, :, None] + offsets + noise, 0.0, 1.0)

    rows, slots = np.nonzero(held)
    size = len(rows)
    plan = Episodes(
        person=persons[rows],
        source=source[rows],
        contact_date=dates[rows, slots],
        journey=np.zeros(size, dtype=int),
        referred_from=np.full(size, NO_REFERRAL),
        referred_to=np.full(size, NO_REFERRAL),
        first_contact=episodes.first_contact,
        is_returning=episodes.is_returning,
        kind=np.full(size, FOLLOWUP, dtype=np.int8),
        latent=latent[rows, slots],
    )
    per_person = np.full(persons_total, NO_TRAJECTORY)
    per_person[persons] = trajectory
    monitoring = np.full(persons_total, -1)
    monitoring[persons] = source
    return FollowupPlan(visits=plan, trajectory=per_person, monitoring_source=monitoring)


def answer_columns(
    episodes: Episodes, devanagari: np.ndarray, config: SynthConfig, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """One text column per indicator ("" on episodes and for skipped answers).

    A register writes all answers of a row one way: the canonical value ("4", "yes") or,
    on `answer_label_rate` of rows, the option's label (Nepali on Devanagari rows).
    """
    indicators = load_indicator_config()
    n = len(episodes)
    rows = np.flatnonzero(episodes.kinds == FOLLOWUP)
    as_label = rng.random(len(rows)) < config.answer_label_rate
    nepali = devanagari[rows]
    latent = episodes.latents[rows]
    columns: dict[str, np.ndarray] = {}
    for indicator in indicators.indicators:
        options = indicators.scales[indicator.scale]
        position = latent[:, DIMENSIONS.index(indicator.dimension)]
        position = position + rng.normal(0.0, 0.12, size=len(rows))
        if indicator.direction == "higher_is_worse":
            position = 1.0 - position
        choice = np.clip(np.rint(position * (len(options) - 1)), 0, len(options) - 1).astype(int)
        values = np.array([str(o.value) for o in options], dtype=object)
        english = np.array([o.label_en for o in options], dtype=object)
        local = np.array([o.label_ne for o in options], dtype=object)
        written = np.where(
            as_label, np.where(nepali, local[choice], english[choice]), values[choice]
        )
        skipped = rng.random(len(rows)) < config.answer_missing_rate
        column = np.full(n, "", dtype=object)
        column[rows] = np.where(skipped, "", written)
        columns[indicator.code] = column
    return columns


def record_kind_column(
    episodes: Episodes, devanagari: np.ndarray, config: SynthConfig, rng: np.random.Generator
) -> np.ndarray:
    """`record_kind` as registers write it: episodes often blank, follow-ups in a few forms."""
    n = len(episodes)
    followup = episodes.kinds == FOLLOWUP
    style = rng.random(n)
    spelled = np.where(
        style < 0.7, "followup", np.where(style < 0.85, "Follow-up", "follow up")
    ).astype(object)
    spelled = np.where(devanagari & (style >= 0.85), "अनुगमन", spelled)
    episode = np.where(rng.random(n) < config.episode_kind_blank_rate, "", "episode")
    return np.where(followup, spelled, episode).astype(object)
