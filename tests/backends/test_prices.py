"""The price table: which entry prices a model, what a usage costs, what a user may override."""

from __future__ import annotations

import pytest

from subrational.backends.prices import (
    PRICES_AS_OF,
    SHIPPED,
    lookup_price,
    parse_prices,
    usage_cost,
)
from subrational.backends.tokens import count_prompt_tokens, count_text_tokens, encoding_name
from subrational.config import build_config
from subrational.errors import ConfigError


@pytest.mark.parametrize(("model", "pattern"), [
    ("gpt-4o", "gpt-4o"), ("gpt-4o-2024-08-06", "gpt-4o-20*"),
    ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"), ("gpt-4o-mini", "gpt-4o-mini"),
    ("openai/gpt-4o", "gpt-4o"), ("GPT-4.1", "gpt-4.1"), ("gpt-4.1-mini-2025-04-14",
                                                       "gpt-4.1-mini-20*"),
    ("o3", "o3"), ("o3-mini", "o3-mini"), ("o4-mini", "o4-mini"), ("gpt-5", "gpt-5"),
    ("gpt-5-mini", "gpt-5-mini"), ("gpt-5-2025-08-07", "gpt-5-20*"),
    ("claude-sonnet-4-5", "claude-sonnet-4-5*"), ("claude-sonnet-4-20250514",
                                                  "claude-sonnet-4-20*"),
    ("claude-opus-4-1-20250805", "claude-opus-4-1*"), ("claude-haiku-4-5-20251001",
                                                       "claude-haiku-4-5*"),
])
def test_each_model_is_priced_by_its_own_entry(model, pattern):
    match = lookup_price(model)
    assert match is not None and match.pattern == pattern and match.source == "shipped"
    assert match.price.as_of == PRICES_AS_OF


@pytest.mark.parametrize("model", ["acme-llm", "gpt-5.2", "gpt-4o-realtime-preview", "o3-pro",
                                   "claude-opus-4-6", "SmolLM2-135M-Instruct"])
def test_a_model_the_table_does_not_know_has_no_price_not_a_zero_one(model):
    assert lookup_price(model) is None


def test_every_shipped_entry_has_cached_input_at_most_input_and_a_date():
    for pattern, entry in SHIPPED:
        assert 0 < entry["cached_input"] <= entry["input"] < entry["output"], pattern
        assert entry["as_of"] == PRICES_AS_OF


def test_a_usage_costs_its_fresh_input_cached_input_and_output_reasoning_once():
    price = lookup_price("gpt-4o").price  # 2.50, 1.25, 10.00 per million
    usage = {"input_tokens": 1_000_000, "cached_input_tokens": 400_000,
             "output_tokens": 2_000_000, "reasoning_tokens": 1_500_000}
    assert usage_cost(usage, price) == pytest.approx(0.6 * 2.50 + 0.4 * 1.25 + 2 * 10.00)


def test_the_users_entry_comes_before_the_shipped_one():
    match = lookup_price("gpt-4o", {"gpt-4o*": {"input": 1, "output": 2, "as_of": "2026-03"}})
    assert (match.source, match.pattern, match.price.cached_input) == ("config", "gpt-4o*", 1.0)
    assert "config prices as of 2026-03" in match.describe()
    assert "check them" in lookup_price("o3").describe()


@pytest.mark.parametrize(("table", "message"), [
    ({"m": {"input": -1, "output": 1}}, "'m'.input must be a number of US dollars"),
    ({"m": {"input": 1}}, "'m' has no output price"),
    ({"m": {"input": 1, "output": 1, "prompt": 2}}, "'m' sets 'prompt', which is not a price"),
    ({"m": {"input": 1, "output": 1, "as_of": "last week"}}, "'m'.as_of must be a date"),
    ({"m": {"input": True, "output": 1}}, "'m'.input must be a number"),
    ({"m": 3}, "'m' must be a table of prices"),
    (["m"], "must be a table of model patterns"),
])
def test_a_bad_price_table_is_one_line_naming_the_field(table, message):
    with pytest.raises(ValueError, match=message):
        parse_prices(table)
    with pytest.raises(ConfigError, match=f"prices in x.toml: {message}"):
        build_config({"prices": table}, source="x.toml", file_keys=["prices"])


@pytest.mark.parametrize(("value", "ok"), [(0.5, True), (0, False), (-1, False),
                                           (float("nan"), False), (float("inf"), False)])
def test_max_cost_is_a_positive_number_of_dollars(value, ok):
    if ok:
        assert build_config({"max_cost": value}).max_cost == value
    else:
        with pytest.raises(ConfigError, match="--max-cost: must be more than 0"):
            build_config({"max_cost": value})


def test_prompt_tokens_fall_back_to_chars_over_4_plus_the_chat_overhead():
    from subrational.backends.base import Message

    messages = (Message("system", "x" * 40), Message("user", "y" * 9))
    count = count_prompt_tokens(messages, backend="anthropic", model="claude-sonnet-4-5")
    assert count.method == "chars/4" and count.tokens == (10 + 3) + (3 + 3) + 3


def test_openai_models_are_counted_with_their_bpe_where_it_is_installed():
    pytest.importorskip("bpe_openai")
    assert encoding_name("openai", "gpt-5-mini") == "o200k_base"
    assert encoding_name("openai", "gpt-4-0613") == "cl100k_base"
    assert encoding_name("openai", "llama-3") is None
    # "Hello world" is two tokens in o200k_base; characters / 4 would say 3.
    assert count_text_tokens("Hello world", encoding="o200k_base").tokens == 2
    assert count_text_tokens("Hello world", encoding=None).tokens == 3


def test_a_backend_without_a_billed_api_is_free_and_an_api_one_is_priced_by_its_model():
    from subrational.accounting import check_max_cost, price_for
    from subrational.backends.prices import FREE
    from subrational.backends.scripted import ScriptedBackend

    scripted = ScriptedBackend("uniform")
    assert price_for(scripted) is FREE and FREE.price.output == 0
    check_max_cost(1.0, scripted, FREE)  # a limit on a free backend is kept trivially
    pytest.importorskip("openai")
    from subrational.backends.openai_api import OpenAIBackend

    api = OpenAIBackend("acme-llm", base_url="http://127.0.0.1:9/v1")
    assert price_for(api) is None
    assert price_for(api, {"acme-*": {"input": 0, "output": 0}}).source == "config"
    with pytest.raises(ConfigError, match="--max-cost 1: there is no price for 'acme-llm'"):
        check_max_cost(1.0, api, None)
