"""Contacts over time: which agency met each person when, and who referred whom.

Grain of `Episodes`: one element per contact episode (one future extract row). A person has
one *journey* (a trafficking incident) during which 1-3 agency types meet them in referral
order a few weeks apart; a returning person (re-trafficked) has a second journey, with one
contact, at least six months after the first journey ended. So a person has 1-4 records.
There is one agency per source type, so "agencies" and "source types" coincide here.

Reintegration follow-up visits (`followups.py`) are appended to the same structure with
`kind == FOLLOWUP`, so they pass through the same record writer (names, variants, typos)
and link like any other record of the person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.synthetic.config import SOURCE_TYPES, SynthConfig
from linkage.synthetic.people import People

# Referral codes beyond the three sources (indices 0-2 are SOURCE_TYPES).
REFERRAL_TYPES: tuple[str, ...] = (*SOURCE_TYPES, "police", "other")
NO_REFERRAL = -1
_POLICE, _OTHER = 3, 4
MAX_EPISODES = 4
EPISODE, FOLLOWUP = 0, 1  # values of Episodes.kind


@dataclass(frozen=True)
class Episodes:
    """Contact episodes; arrays are indexed by episode number (per-person arrays by person)."""

    person: np.ndarray
    source: np.ndarray  # index into SOURCE_TYPES
    contact_date: np.ndarray  # datetime64[D]
    journey: np.ndarray  # 0 = first journey, 1 = return after a gap
    referred_from: np.ndarray  # index into REFERRAL_TYPES or NO_REFERRAL
    referred_to: np.ndarray  # index into REFERRAL_TYPES or NO_REFERRAL
    first_contact: np.ndarray  # per PERSON: date of the person's first episode
    is_returning: np.ndarray  # per PERSON: has a second journey
    kind: np.ndarray | None = None  # EPISODE or FOLLOWUP; None: all episodes
    # Follow-up visits only (NaN on episodes): the latent reintegration level per dimension
    # (economic, social, psychosocial) on 0..1, from which the answers are drawn.
    latent: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.person)

    @property
    def kinds(self) -> np.ndarray:
        """`kind`, with zeros (episodes) when it was not given."""
        return self.kind if self.kind is not None else np.zeros(len(self), dtype=np.int8)

    @property
    def latents(self) -> np.ndarray:
        """`latent`, NaN everywhere when it was not given."""
        return self.latent if self.latent is not None else np.full((len(self), 3), np.nan)

    def take(self, order: np.ndarray) -> Episodes:
        """The same episodes in another order (per-person arrays unchanged)."""
        return Episodes(
            person=self.person[order],
            source=self.source[order],
            contact_date=self.contact_date[order],
            journey=self.journey[order],
            referred_from=self.referred_from[order],
            referred_to=self.referred_to[order],
            first_contact=self.first_contact,
            is_returning=self.is_returning,
            kind=self.kinds[order],
            latent=self.latents[order],
        )

    def extended(self, other: Episodes) -> Episodes:
        """These episodes followed by `other`'s (same persons, so per-person arrays kept)."""
        return Episodes(
            person=np.concatenate([self.person, other.person]),
            source=np.concatenate([self.source, other.source]),
            contact_date=np.concatenate([self.contact_date, other.contact_date]),
            journey=np.concatenate([self.journey, other.journey]),
            referred_from=np.concatenate([self.referred_from, other.referred_from]),
            referred_to=np.concatenate([self.referred_to, other.referred_to]),
            first_contact=self.first_contact,
            is_returning=self.is_returning,
            kind=np.concatenate([self.kinds, other.kinds]),
            latent=np.concatenate([self.latents, other.latents]),
        )


def _source_orders(rng: np.random.Generator, count: int, config: SynthConfig) -> np.ndarray:
    """Per person, the three source types in the order they would meet the person."""
    weights = np.array([config.first_source_weights[s] for s in SOURCE_TYPES])
    first = rng.choice(3, size=count, p=weights / weights.sum())
    flip = rng.random(count) < 0.5
    second = np.where(flip, (first + 1) % 3, (first + 2) % 3)
    third = 3 - first - second
    return np.stack([first, second, third], axis=1)


def generate_episodes(people: People, config: SynthConfig, rng: np.random.Generator) -> Episodes:
    """Draw every person's contacts: agencies, dates, return after a gap, referrals."""
    count = len(people)
    n_sources = 1 + rng.choice(3, size=count, p=np.array(config.agency_count_weights))
    orders = _source_orders(rng, count, config)
    step_low, step_high = config.referral_step_days
    steps = rng.integers(step_low, step_high + 1, size=(count, 2))
    steps[n_sources < 2, 0] = 0
    steps[n_sources < 3, 1] = 0
    returning = rng.random(count) < config.returning_share
    gap = rng.integers(config.return_gap_days[0], config.return_gap_days[1] + 1, size=count)
    return_source = orders[np.arange(count), (rng.random(count) * n_sources).astype(int)]

    span = steps.sum(axis=1) + np.where(returning, gap, 0)
    window = (np.datetime64(config.last_contact) - np.datetime64(config.first_contact)).astype(int)
    start_offset = (rng.random(count) * np.maximum(window - span, 1)).astype(int)

    # Siblings met together (trafficked and rescued together): same day, same agencies,
    # same return. Older siblings are never younger siblings, so copying once is exact.
    together = (people.sibling_of >= 0) & (rng.random(count) < config.sibling_together_share)
    idx, older = np.flatnonzero(together), people.sibling_of[together]
    for array in (n_sources, orders, steps, returning, gap, return_source, start_offset):
        array[idx] = array[older]

    start = np.datetime64(config.first_contact) + start_offset.astype("timedelta64[D]")
    offsets = np.zeros((count, MAX_EPISODES), dtype=np.int64)
    offsets[:, 1] = steps[:, 0]
    offsets[:, 2] = steps[:, 0] + steps[:, 1]
    slot = np.arange(MAX_EPISODES)[None, :]
    in_first = slot < n_sources[:, None]
    # The return episode sits right after the last first-journey episode.
    return_slot = n_sources
    is_return = returning[:, None] & (slot == return_slot[:, None])
    offsets[is_return[:, :]] = (offsets[np.arange(count), n_sources - 1] + gap)[returning]
    valid = in_first | is_return

    source_grid = np.full((count, MAX_EPISODES), -1)
    source_grid[:, :3] = orders
    source_grid[is_return] = return_source[returning]

    # Referrals inside the first journey: each record names the next/previous agency type.
    referred_to = np.full((count, MAX_EPISODES), NO_REFERRAL)
    referred_from = np.full((count, MAX_EPISODES), NO_REFERRAL)
    has_next = slot < (n_sources[:, None] - 1)
    send = has_next & (rng.random((count, MAX_EPISODES)) < config.referral_to_rate)
    nxt = np.concatenate([source_grid[:, 1:], np.full((count, 1), -1)], axis=1)
    referred_to[send] = nxt[send]
    has_prev = (slot >= 1) & in_first
    receive = has_prev & (rng.random((count, MAX_EPISODES)) < config.referral_from_rate)
    prev = np.concatenate([np.full((count, 1), -1), source_grid[:, :-1]], axis=1)
    referred_from[receive] = prev[receive]

    # First record of each journey: sometimes referred in by police or another body.
    journey_start = (slot == 0) | is_return
    outside = journey_start & (
        rng.random((count, MAX_EPISODES)) < config.outside_referral_from_rate
    )
    referred_from[outside] = np.where(rng.random(outside.sum()) < 0.7, _POLICE, _OTHER)

    # Last record of each journey: sometimes a referral that no later record confirms, to an
    # agency type the person is never seen at (or police/other when seen at all three).
    journey_end = (slot == (n_sources[:, None] - 1)) | is_return
    dangling = journey_end & (rng.random((count, MAX_EPISODES)) < config.unconfirmed_referral_rate)
    rows = np.nonzero(dangling)[0]
    candidate = rng.integers(0, 3, size=len(rows))
    seen = (orders[rows, :] == candidate[:, None]) & (np.arange(3)[None, :] < n_sources[rows, None])
    referred_to[dangling] = np.where(seen.any(axis=1), _OTHER, candidate)

    person_grid = np.broadcast_to(np.arange(count)[:, None], (count, MAX_EPISODES))
    journey_grid = np.where(is_return, 1, 0)
    dates = start[:, None] + offsets.astype("timedelta64[D]")
    return Episodes(
        person=person_grid[valid],
        source=source_grid[valid],
        contact_date=dates[valid],
        journey=journey_grid[valid],
        referred_from=referred_from[valid],
        referred_to=referred_to[valid],
        first_contact=start,
        is_returning=returning,
    )
