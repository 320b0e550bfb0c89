"""Customer messaging: what a campaign does to demand, and why sending more does not keep paying.

A campaign reaches some of the opted-in customers of a segment (or of all segments) and lifts the
demand of one category (or all) for ``demand.campaign_days`` days. Its *effective reach* is the
share of all customers it reached, each discounted by how tired their segment already is of
messages (``exp(-fatigue)``). Messaging a segment tires it (``demand.campaign_fatigue`` per full
pass over the segment) and fatigue halves every ``demand.campaign_fatigue_half_life_days`` days.

The lift saturates: with total effective reach ``R`` of the campaigns running for a product's
category, demand is multiplied by ``1 + campaign_lift * (1 - exp(-R))``, never more than
``1 + campaign_lift`` however many campaigns are stacked. Every message costs
``marketing.cost_per_message`` and the platform sends at most ``marketing.daily_capacity`` a day.
"""

from __future__ import annotations

import numpy as np

from commerce_sim.state import Campaign, SimState


def opted_in_by_segment(state: SimState) -> np.ndarray:
    customers = state.customers
    return np.bincount(customers.segment[customers.marketing_opt_in], minlength=len(state.world.segment_names))


def capacity_left(state: SimState, day: int) -> int:
    return max(0, state.scenario.marketing.daily_capacity - state.messages_sent.get(day, 0))


def send(state: SimState, campaign_id: str, segment: int, category: int, messages: int, day: int) -> Campaign:
    """Record a campaign of ``messages`` sent on ``day``: its effective reach, the fatigue it leaves
    and the capacity it uses (callers check capacity and audience first)."""
    spec = state.scenario.demand
    opted_in = opted_in_by_segment(state).astype(float)
    targeted = opted_in if segment < 0 else np.where(np.arange(opted_in.size) == segment, opted_in, 0.0)
    per_segment = messages * targeted / max(targeted.sum(), 1.0)
    reach = float((per_segment * np.exp(-state.fatigue)).sum() / max(state.customers.n, 1))
    state.fatigue = state.fatigue + spec.campaign_fatigue * per_segment / np.maximum(opted_in, 1.0)
    state.messages_sent[day] = state.messages_sent.get(day, 0) + messages
    campaign = Campaign(campaign_id, segment, category, messages, day, day + spec.campaign_days - 1, reach)
    state.campaigns.append(campaign)
    return campaign


def campaign_log_effect(state: SimState, day: int) -> np.ndarray:
    """Log demand multiplier of the campaigns running on ``day``, per product (a column to broadcast)."""
    category = state.world.catalog.category
    reach = np.zeros(category.size)
    for campaign in state.campaigns:
        if campaign.start_day <= day <= campaign.end_day:
            reach += campaign.reach if campaign.category < 0 else np.where(category == campaign.category,
                                                                          campaign.reach, 0.0)
    return np.log1p(state.scenario.demand.campaign_lift * -np.expm1(-reach))[:, None]


def end_of_day(state: SimState, day: int) -> None:
    """Fatigue decays; campaigns and capacity counts that can no longer matter are dropped."""
    half_life = state.scenario.demand.campaign_fatigue_half_life_days
    state.fatigue = state.fatigue * 0.5 ** (1.0 / half_life)
    state.campaigns = [c for c in state.campaigns if c.end_day > day]
    state.messages_sent = {d: n for d, n in state.messages_sent.items() if d > day}
