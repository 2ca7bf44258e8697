"""What a model call costs: tokens from the AIMessage, USD from a price table.

Built-in prices are the providers' public list prices in USD per 1M tokens as of 2026-11 (input,
output and cache reads; standard tier, no batch, regional or long-prompt surcharges). They are a
planning aid, not an invoice: HEXAOPS_MODEL_PRICES overrides or adds models (self-hosted models,
negotiated prices, models released later). A model without a price costs None with a note, never
an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from langchain_core.messages import BaseMessage

from hexaops.settings import Settings

OFFLINE_MODEL: Final = "hexaops-offline"  # the offline planner's response_metadata model_name


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens; `cache_read` None: cached input costs as much as input."""

    input: float
    output: float
    cache_read: float | None = None


@dataclass(frozen=True)
class Usage:
    """Tokens of one model call; `input_tokens` includes `cache_read_tokens`."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
        )


@dataclass(frozen=True)
class Cost:
    """`usd` None when the model has no known price; `note` says why."""

    usd: float | None
    note: str | None = None


LIST_PRICES: Final[Mapping[str, Price]] = {
    # Anthropic (platform.claude.com pricing; Haiku 5.5: prompts up to 100k tokens, longer
    # prompts bill 5x and are under-counted here)
    "claude-fable-5-1": Price(10.0, 50.0, 0.25),
    "claude-mythos-5-1": Price(10.0, 50.0, 0.25),
    "claude-fable-5": Price(10.0, 50.0, 1.0),
    "claude-mythos-5": Price(10.0, 50.0, 1.0),
    "claude-opus-5-5": Price(4.0, 20.0, 0.20),
    "claude-opus-5": Price(5.0, 25.0, 0.50),
    "claude-opus-4-8": Price(5.0, 25.0, 0.50),
    "claude-opus-4-7": Price(5.0, 25.0, 0.50),
    "claude-opus-4-6": Price(5.0, 25.0, 0.50),
    "claude-opus-4-5": Price(5.0, 25.0, 0.50),
    "claude-opus-4-1": Price(15.0, 75.0, 1.50),
    "claude-sonnet-5-5": Price(2.0, 10.0, 0.10),
    "claude-sonnet-5": Price(2.0, 10.0, 0.20),
    "claude-sonnet-4-6": Price(3.0, 15.0, 0.30),
    "claude-sonnet-4-5": Price(3.0, 15.0, 0.30),
    "claude-haiku-5-5": Price(0.10, 0.50, 0.01),
    "claude-haiku-4-5": Price(1.0, 5.0, 0.10),
    # OpenAI (developers.openai.com pricing, standard tier)
    "gpt-5.6-sol": Price(5.0, 30.0, 0.50),
    "gpt-5.6-terra": Price(2.50, 15.0, 0.25),
    "gpt-5.6-luna": Price(1.0, 6.0, 0.10),
    "gpt-5.5": Price(5.0, 30.0, 0.50),
    "gpt-5.4": Price(2.50, 15.0, 0.25),
    "gpt-5.4-mini": Price(0.75, 4.50, 0.075),
    "gpt-5": Price(1.25, 10.0, 0.125),
    "gpt-5-mini": Price(0.25, 2.0, 0.025),
    "gpt-5-nano": Price(0.05, 0.40, 0.005),
    "gpt-4.1": Price(2.0, 8.0, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4o": Price(2.50, 10.0, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
    # Built in: no provider, no bill.
    OFFLINE_MODEL: Price(0.0, 0.0, 0.0),
}
# Dated snapshots cost what their alias costs: claude-sonnet-4-5-20250929, gpt-4.1-2025-04-14.
_SNAPSHOT: Final = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")


def price_table(settings: Settings) -> dict[str, Price]:
    """The list prices with HEXAOPS_MODEL_PRICES applied on top."""
    table = dict(LIST_PRICES)
    for model, override in settings.model_prices.items():
        table[model] = Price(override["input"], override["output"], override.get("cache_read"))
    return table


def price_of(model: str, prices: Mapping[str, Price] = LIST_PRICES) -> Price | None:
    """The price of `model` or of the alias of its dated snapshot; None when unknown (a variant
    such as "-nano" is a different model, never priced as its family)."""
    return prices.get(model) or prices.get(_SNAPSHOT.sub("", model))


def usage_of(message: BaseMessage) -> Usage:
    """The tokens an AIMessage (or merged stream chunk) reports; zero when it reports none."""
    metadata = getattr(message, "usage_metadata", None)
    if not metadata:
        return Usage()
    details = metadata.get("input_token_details") or {}
    return Usage(
        input_tokens=metadata.get("input_tokens", 0),
        output_tokens=metadata.get("output_tokens", 0),
        cache_read_tokens=details.get("cache_read", 0) or 0,
    )


def cost_usd(model: str, usage: Usage, prices: Mapping[str, Price] = LIST_PRICES) -> Cost:
    """USD of `usage` on `model`; Cost(None, note) for a model without a price."""
    price = price_of(model, prices)
    if price is None:
        return Cost(None, f"no price known for model {model!r}; add it to HEXAOPS_MODEL_PRICES")
    cached = min(usage.cache_read_tokens, usage.input_tokens)
    cache_rate = price.input if price.cache_read is None else price.cache_read
    usd = (
        (usage.input_tokens - cached) * price.input
        + cached * cache_rate
        + usage.output_tokens * price.output
    ) / 1_000_000
    return Cost(round(usd, 8))
