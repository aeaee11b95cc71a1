"""pricing.py: each call priced by genai-prices at the rate of each of its parts (1-hour cache
writes at their own rate), by the provider its session recorded, and traceable to the price
that was used."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from genai_prices import Usage, calc_price

from claude_view_pipeline import pricing


@pytest.mark.parametrize("source,provider,model,tokens", [
    # (uncached input, cache read, 5-minute writes, 1-hour writes, output)
    ("claude", None, "claude-sonnet-4-5-20250929", (120, 30_000, 2_000, 0, 900)),
    ("claude", None, "claude-sonnet-4-5-20250929", (120, 30_000, 500, 6_000, 900)),
    ("claude", None, "claude-sonnet-4-5-20250929", (5_000, 250_000, 4_000, 6_000, 4_000)),  # above the 200K tier
    ("claude", None, "claude-opus-4-1-20250805", (10, 0, 0, 16_000, 5)),
    ("claude", None, "claude-haiku-4-5-20251001", (3, 11_000, 700, 1_300, 40)),
    ("codex", "openai", "gpt-5-codex", (8_000, 24_000, 0, 0, 1_500)),
    ("codex", "azure", "gpt-5-codex", (8_000, 24_000, 0, 0, 1_500)),
    ("codex", "ollama-launch", "kimi-k2.5:cloud", (30_000, 90_000, 0, 0, 2_000)),
])
def test_a_call_costs_what_genai_prices_says(source, provider, model, tokens):
    inp, cache_read, five_min, one_hour, out = tokens
    found = pricing.find_price(source, provider, model)
    # genai-prices counts input including cache reads and writes, and the 1-hour writes
    # inside all writes
    expected = calc_price(Usage(input_tokens=inp + cache_read + five_min + one_hour, cache_read_tokens=cache_read,
                                cache_write_tokens=five_min + one_hour, cache_write_1h_tokens=one_hour, output_tokens=out),
                          model_ref=found.price_model, provider_id=found.price_provider)
    got = pricing.call_cost(source, provider, model, inp, cache_read, five_min, one_hour, out)
    assert Decimal(str(got)).quantize(Decimal("1e-9")) == expected.total_price.quantize(Decimal("1e-9"))


def test_one_hour_writes_cost_twice_the_input_rate_and_five_minute_writes_one_and_a_quarter():
    # claude-sonnet-4-5 below its 200K tier: $3 input, $3.75 5-minute writes, $6 1-hour writes
    # per million tokens, so 100,000 tokens of each cost $0.30, $0.375 and $0.60
    costs = [pricing.call_cost("claude", None, "claude-sonnet-4-5", *t, 0) for t in
             ((100_000, 0, 0, 0), (0, 0, 100_000, 0), (0, 0, 0, 100_000))]
    assert [round(c, 9) for c in costs] == [0.3, 0.375, 0.6]


@pytest.mark.parametrize("source,provider,model,priced_as", [
    ("claude", None, "claude-sonnet-4-5-20250929", ("anthropic", "claude-sonnet-4-5")),
    ("claude", None, "claude-sonnet-4-5-latest", ("anthropic", "claude-sonnet-4-5")),  # a suffix
    ("codex", "openai", "gpt-5-codex", ("openai", "gpt-5")),
    ("codex", "azure", "gpt-5-codex", ("azure", "gpt-5")),  # the recorded provider's own price
    # a provider genai-prices does not know: its own matching across providers finds the model
    ("codex", "ollama-launch", "kimi-k2.5:cloud", ("moonshotai", "kimi-k2.5")),
    # a local tag folded into the name
    ("codex", "ollama", "gpt-oss:20b", ("openai", "gpt-oss-20b")),
    # a routing prefix names the provider
    ("claude", None, "openrouter/anthropic/claude-sonnet-4.5", ("openrouter", "anthropic/claude-sonnet-4.5")),
    ("codex", None, "anthropic/claude-sonnet-4.5", ("anthropic", "claude-sonnet-4-5")),
])
def test_the_price_used_is_found_by_recorded_provider_then_across_providers(source, provider, model, priced_as):
    found = pricing.find_price(source, provider, model)
    assert (found.price_provider, found.price_model) == priced_as


@pytest.mark.parametrize("model", ["acme-model-1", "qwen3-coder:480b-cloud-nonexistent", ""])
def test_a_model_genai_prices_does_not_know_has_no_price(model):
    assert pricing.find_price("codex", "openai", model) is None
    assert pricing.call_cost("codex", "openai", model or "x", 10, 0, 0, 0, 10) is None


def test_a_rate_of_zero_stays_zero_and_a_missing_rate_falls_back_to_its_parent():
    free_reads = SimpleNamespace(input_mtok=Decimal(3), cache_read_mtok=Decimal(0), cache_write_mtok=Decimal("3.75"))
    assert pricing._rate(free_reads, pricing._PRICE_KEYS["cache_read"]) == 0
    # no 1-hour rate: the general write rate; no write rate at all: the input rate
    assert pricing._rate(free_reads, pricing._PRICE_KEYS["cache_write_1h"]) == Decimal("3.75")
    assert pricing._rate(SimpleNamespace(input_mtok=Decimal(3)), pricing._PRICE_KEYS["cache_write_1h"]) == Decimal(3)
