"""Elicitation: rendering prompts, scoring or sampling answers, parsing and smoothing them."""

from .elicit import METHODS, Cell, DemoRow, SampleSettings, elicit, plan_size, wordings
from .noise import NOISE_PROMPTS, noise_requests, numerical_noise
from .parsing import ParseResult, parse_answer
from .prompts import PROMPT_VERSION, option_orders, render
from .smoothing import SMOOTHINGS, jeffreys, kde_ordinal, smooth

__all__ = ["METHODS", "NOISE_PROMPTS", "PROMPT_VERSION", "Cell", "DemoRow", "ParseResult",
           "SMOOTHINGS", "SampleSettings", "elicit", "jeffreys", "kde_ordinal", "noise_requests",
           "numerical_noise", "option_orders", "parse_answer", "plan_size", "render", "smooth",
           "wordings"]
