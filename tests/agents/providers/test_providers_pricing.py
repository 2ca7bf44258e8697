"""Tokens from AIMessages and their price: list prices, snapshots, cache reads, overrides, the
offline planner at zero, unknown models as None with a note."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from hexaops.agents.pricing import (
    OFFLINE_MODEL,
    Usage,
    cost_usd,
    price_of,
    price_table,
    usage_of,
)
from hexaops.settings import Settings


def test_usage_comes_from_usage_metadata_including_cache_reads() -> None:
    message = AIMessage(
        content="ok",
        usage_metadata={
            "input_tokens": 10_000,
            "output_tokens": 500,
            "total_tokens": 10_500,
            "input_token_details": {"cache_read": 8_000},
        },
    )
    assert usage_of(message) == Usage(10_000, 500, 8_000)
    assert usage_of(HumanMessage("hi")) == Usage()
    assert usage_of(AIMessageChunk(content="partial")) == Usage()
    assert Usage(1, 2, 0) + Usage(3, 4, 1) == Usage(4, 6, 1)


def test_cost_prices_cached_input_at_the_cache_rate() -> None:
    # claude-sonnet-5-5: 2 $/M input, 10 $/M output, 0.10 $/M cache reads
    cost = cost_usd("claude-sonnet-5-5", Usage(10_000, 500, 8_000))
    assert cost.usd == pytest.approx((2_000 * 2 + 8_000 * 0.10 + 500 * 10) / 1e6)
    assert cost.note is None


def test_dated_snapshots_share_their_alias_price_but_variants_do_not() -> None:
    assert price_of("claude-sonnet-4-5-20250929") == price_of("claude-sonnet-4-5")
    assert price_of("gpt-4.1-2025-04-14") == price_of("gpt-4.1")
    assert price_of("gpt-4.1-mini") != price_of("gpt-4.1")
    assert price_of("gpt-5.4-nano") is None  # not listed: never guessed from "gpt-5.4"


def test_the_offline_planner_is_free_and_unknown_models_are_none_with_a_note() -> None:
    assert cost_usd(OFFLINE_MODEL, Usage(5_000, 800)).usd == 0
    unknown = cost_usd("qwen3-coder:30b", Usage(5_000, 800))
    assert unknown.usd is None
    assert unknown.note == (
        "no price known for model 'qwen3-coder:30b'; add it to HEXAOPS_MODEL_PRICES"
    )


def test_overrides_add_and_replace_prices() -> None:
    settings = Settings(
        model_prices={
            "qwen3-coder:30b": {"input": 0.05, "output": 0.1},
            "gpt-5.4": {"input": 2.0, "output": 12.0, "cache_read": 0.2},
        }
    )
    table = price_table(settings)
    assert cost_usd("qwen3-coder:30b", Usage(1_000_000, 1_000_000), table).usd == pytest.approx(
        0.15
    )
    assert cost_usd("gpt-5.4", Usage(1_000_000, 0, 1_000_000), table).usd == pytest.approx(0.2)
    assert cost_usd("claude-haiku-4-5", Usage(1_000_000, 0), table).usd == pytest.approx(1.0)
