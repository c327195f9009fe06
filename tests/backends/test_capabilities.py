"""The per-model capability table: shipped entries, the user's, and how they merge."""

from __future__ import annotations

import pytest

from subrational.backends.capabilities import CHAT_MODEL, SHIPPED, lookup, parse_table
from subrational.config import build_config, read_config_file
from subrational.errors import ConfigError, UsageError


@pytest.mark.parametrize("model", ["o1", "o3-mini", "o4-mini-2025-04-16", "gpt-5",
                                   "gpt-5-mini", "openai/o3-mini", "O3-MINI"])
def test_openai_reasoning_models_are_known(model):
    caps = lookup(model).capabilities
    assert caps.max_completion_tokens and caps.reasoning and caps.reasoning_effort
    assert not caps.temperature and not caps.logprobs


def test_the_most_specific_shipped_entry_wins():
    mini = lookup("o1-mini").capabilities
    assert mini.reasoning and not mini.reasoning_effort and not mini.structured_answers
    assert lookup("gpt-4o-mini").capabilities.structured_answers
    assert not lookup("gpt-4o-2024-05-13").capabilities.structured_answers


def test_an_unknown_model_is_a_plain_chat_model():
    match = lookup("qwen2.5:7b")
    assert match.capabilities == CHAT_MODEL and match.sources == ()
    assert match.source_of("logprobs") == "the plain chat model's default"


def test_a_user_entry_overrides_one_field_and_keeps_the_rest():
    match = lookup("o3-pro", {"o3-pro*": {"structured_answers": False}})
    caps = match.capabilities
    assert not caps.structured_answers and caps.max_completion_tokens and not caps.logprobs
    assert match.source_of("structured_answers") == "'o3-pro*' (config)"
    assert match.source_of("logprobs") == "'o3*' (shipped)"


def test_a_user_entry_can_describe_a_new_reasoning_model():
    caps = lookup("acme-thinker-2", {"acme-thinker*": {"reasoning": True, "logprobs": False,
                                                        "temperature": False}}).capabilities
    assert caps.reasoning and not caps.logprobs and not caps.temperature
    assert not caps.max_completion_tokens  # not set: the chat model's default


@pytest.mark.parametrize(("table", "says"), [
    ({"o9*": {"temprature": False}}, "'temprature', which is not a capability"),
    ({"o9*": {"logprobs": "no"}}, "'o9*'.logprobs must be true or false"),
    ({"o9*": True}, "must be a table of capabilities"),
    ({"": {"logprobs": False}}, "non-empty string"),
    (["o9*"], "must be a table of model patterns"),
])
def test_a_bad_table_is_one_line(table, says):
    with pytest.raises(ValueError) as info:
        parse_table(table)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_every_shipped_entry_is_valid():
    assert len(parse_table(dict(SHIPPED))) == len(SHIPPED)


def test_the_config_file_key_is_validated_in_one_line(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[model_capabilities."my-reasoner*"]\nreasoning = true\nlogprobs = false\n')
    config = build_config(read_config_file(good), source=str(good),
                          file_keys={"model_capabilities"})
    assert config.model_capabilities == {"my-reasoner*": {"reasoning": True, "logprobs": False}}
    bad = tmp_path / "bad.toml"
    bad.write_text('[model_capabilities."my-reasoner*"]\nlogprob = false\n')
    with pytest.raises(ConfigError) as info:
        build_config(read_config_file(bad), source=str(bad), file_keys={"model_capabilities"})
    text = str(info.value)
    assert text.startswith(f"model_capabilities in {bad}: 'my-reasoner*' sets 'logprob'")
    assert "valid: max_completion_tokens, temperature, logprobs" in text and "\n" not in text


@pytest.mark.parametrize(("values", "says"), [
    ({"answers": "json"}, "unknown answers 'json' (choose from: auto, structured, text)"),
    ({"reasoning_effort": "extreme"}, "--reasoning-effort: must be one of none, minimal"),
    ({"reasoning_budget": -1}, "--reasoning-budget: must be from 0"),
    ({"draws_per_request": 0}, "--draws-per-request: must be from 1"),
])
def test_the_new_settings_are_checked(values, says):
    with pytest.raises(UsageError) as info:
        build_config(values)
    assert says in str(info.value), str(info.value)
