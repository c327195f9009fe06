"""``subrational batch submit | status | collect``: a run's missing calls at batch price.

The cycle: ``submit`` (the run's arguments) writes the missing requests as the provider's
JSONL and sends it (or, with ``--write FILE``, only writes it, e.g. for ``vllm run-batch``);
``status`` polls; ``collect`` stores the answers in the cache (from the provider, or from a
local results file with ``--file``); ``subrational run --offline`` (same arguments) then
finishes the run from the cache. A sequential study sampled needs one round per step of its
episodes (:mod:`.requests`): ``submit`` again after ``collect`` until nothing is missing.
Both providers bill batches at half their list price; the estimate printed says so.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..accounting import price_for
from ..backends.base import Backend
from ..backends.prices import PriceMatch, usage_cost
from ..cache import Cache
from ..config import RunConfig
from ..errors import BatchError
from ..paths import write_text_atomic
from ..pipeline import build_backend, check_personas, check_plan, resolve_experiments
from ..plan import _tokens
from .ingest import Ingested, ingest, parse_results
from .providers import fetch_results, progress, submit_lines
from .requests import BatchLine, Missing, batch_lines, check_provider, missing_requests
from .state import BatchRecord, LineRecord, batch_dir, read_state, write_state

__all__ = ["BATCH_DISCOUNT", "Submitted", "submit", "status", "collect"]

BATCH_DISCOUNT = 0.5
"""Batch price as a share of the list price (OpenAI and Anthropic both halve it, as of 2026)."""


@dataclass(frozen=True)
class Submitted:
    """What ``submit`` did.

    Attributes:
        record: The batch recorded (None when nothing is missing).
        missing: The requests found missing.
        lines: Lines written or sent.
        cost: (low, high) US dollars at batch price; None when the price is unknown.
        folder: The batch folder.
        args: The run's arguments.
    """

    record: BatchRecord | None
    missing: Missing
    lines: int
    cost: tuple[float, float] | None
    folder: Path
    args: list[str]


def _estimate(backend: Backend, lines: Sequence[BatchLine],
              price: PriceMatch | None) -> tuple[float, float] | None:
    """(low, high) US dollars of ``lines`` at batch price (plan's token counts, per draw)."""
    if price is None:
        return None
    low = high = 0.0
    for line in lines:
        inp, out_low, out_high = _tokens(backend, line.request)
        draws = len(line.keys)
        low += usage_cost({"input_tokens": inp * draws, "output_tokens": out_low * draws},
                          price.price)
        high += usage_cost({"input_tokens": inp * draws, "output_tokens": out_high * draws},
                           price.price)
    return low * BATCH_DISCOUNT, high * BATCH_DISCOUNT


def _pending(folder: Path) -> None:
    state = read_state(folder, required=False)
    last = state.batches[-1] if state.batches else None
    if last is not None and last.batch_ids and not last.collected:
        raise BatchError(f"batch {', '.join(last.batch_ids)} ({last.provider}, {last.created}) "
                         f"in {folder} is not collected yet: run `subrational batch collect` "
                         "first (another submit now would ask the same requests twice)")


def submit(config: RunConfig, *, args: list[str], out: Path | None = None,
           write: Path | None = None) -> Submitted:
    """Find the run's missing calls; write them to ``write``, or send them as a batch.

    More requests than one batch may hold go as several batches, collected together.

    Raises:
        BatchError: A provider with no batch API, an uncollected batch in the folder, or a
            high estimate above ``--max-cost``.
    """
    folder = batch_dir(out)
    _pending(folder)
    experiments = resolve_experiments(config)
    check_personas(experiments, config.personas)
    check_plan(experiments, config)
    backend = build_backend(config)
    try:
        check_provider(backend)
        missing = missing_requests(config, backend, experiments, Cache())
        lines = batch_lines(backend, missing)
        cost = _estimate(backend, lines, price_for(backend, config.prices))
        if not lines:
            return Submitted(None, missing, 0, cost, folder, args)
        if config.max_cost is not None and cost is not None and cost[1] > config.max_cost:
            raise BatchError(f"--max-cost {config.max_cost:g}: this batch may cost up to "
                             f"${cost[1]:.4f} at batch price; nothing was sent: raise "
                             "--max-cost or submit part of the run (fewer experiments or "
                             "--persona)")
        payload = [line.line for line in lines]
        if write is not None:
            write_text_atomic(write, "".join(json.dumps(x) + "\n" for x in payload),
                              what="the batch file (--write)")
            batch_ids: list[str] = []
        else:
            batch_ids = submit_lines(backend, payload)
        record = _record(backend, config, args, lines, missing, batch_ids, write)
    finally:
        backend.close()
    state = read_state(folder, required=False)
    write_state(folder, state.model_copy(update={"batches": [*state.batches, record]}))
    return Submitted(record, missing, len(lines), cost, folder, args)


def _record(backend: Backend, config: RunConfig, args: list[str], lines: list[BatchLine],
            missing: Missing, batch_ids: list[str], write: Path | None) -> BatchRecord:
    return BatchRecord(
        provider=backend.name,  # type: ignore[arg-type]  # checked: check_provider
        batch_ids=batch_ids, model=backend.describe(),
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        config=json.loads(config.model_dump_json()), args=args,
        input_file=str(write) if write is not None else None,
        lines=[LineRecord(custom_id=x.custom_id, op=x.op, keys=list(x.keys),  # type: ignore
                          options=list(x.options), structured=x.structured) for x in lines],
        frontier=missing.frontier)


def _last(folder: Path) -> BatchRecord:
    state = read_state(folder)
    if not state.batches:
        raise BatchError(f"no batch in {folder}: run `subrational batch submit ...` first")
    return state.batches[-1]


def _backend(record: BatchRecord) -> Backend:
    """The run's backend, offline: it reads replies; the key is asked only to fetch them."""
    config = RunConfig.model_validate({**record.config, "offline": True})
    return build_backend(config)


def status(*, out: Path | None = None) -> str:
    """One line on the last batch of the folder."""
    folder = batch_dir(out)
    record = _last(folder)
    head = f"batch of {len(record.lines)} requests for {record.model}, made {record.created}"
    ids = ", ".join(record.batch_ids)
    if not record.batch_ids:
        return (f"{head}: written to {record.input_file}, not sent; run it (e.g. `vllm "
                "run-batch -i FILE -o results.jsonl`) and `subrational batch collect --file "
                "results.jsonl`")
    if record.collected:
        return (f"{head}: {ids} collected (stored {record.stored}, failed "
                f"{record.failed})")
    backend = _backend(record)
    try:
        got = progress(backend, record.batch_ids)
    finally:
        backend.close()
    then = ("ended: run `subrational batch collect`" if got.ended
            else "not ended: ask again later")
    return (f"{head}: {ids} is {got.status}; {got.done} of {got.total} answered, "
            f"{got.failed} failed; {then}")


def collect(*, out: Path | None = None, file: Path | None = None) -> tuple[BatchRecord,
                                                                             Ingested]:
    """Store the answers of the folder's last batch (from the provider, or ``file``).

    Raises:
        BatchError: No batch, a batch not ended, a batch only written and no ``file``, or a
            malformed results file.
    """
    folder = batch_dir(out)
    record = _last(folder)
    backend = _backend(record)
    try:
        if file is not None:
            data = _read(file)
        elif not record.batch_ids:
            raise BatchError(f"the batch was only written ({record.input_file}): run it and "
                             "pass its results with --file RESULTS.jsonl")
        else:
            got = progress(backend, record.batch_ids)
            if not got.ended:
                raise BatchError(f"batch {', '.join(record.batch_ids)} is {got.status} "
                                 f"({got.done} of {got.total} answered): collect it once it "
                                 "has ended (`subrational batch status`)")
            data = fetch_results(backend, record.batch_ids)
        results = parse_results(data, source=str(file or ", ".join(record.batch_ids)))
        done = ingest(backend, record.lines, results, Cache())
    finally:
        backend.close()
    updated = record.model_copy(update={"collected": True, "stored": done.stored,
                                        "failed": done.failed_total})
    state = read_state(folder)
    write_state(folder, state.model_copy(update={"batches": [*state.batches[:-1], updated]}))
    return updated, done


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise BatchError(f"cannot read the results file {file}: {exc.strerror}") from None


def next_steps(record: BatchRecord, out: Path | None) -> str:
    """What to type next: submit again (the rest), or finish the run offline."""
    args = shlex.join(record.args)
    where = f" --out {shlex.quote(str(out))}" if out is not None else ""
    return (f"run `subrational batch submit {args}{where}` again for the rest, or "
            f"`subrational run --offline {args}` to finish")


def describe_submit(done: Submitted) -> list[str]:
    """The lines ``submit`` prints."""
    missing = done.missing
    if done.record is None:
        return [f"nothing to ask: all {missing.cached} requests are in the cache; run "
                f"`subrational run --offline {shlex.join(done.args)}` to finish"]
    rec = done.record
    what = f"{done.lines} requests"
    if missing.frontier:
        steps = (f"for the next step of {missing.episodes} episodes "
                 f"({', '.join(missing.frontier)})")
        whole = missing.episodes == len(missing.requests)
        what += f" {steps}" if whole else f" ({missing.episodes} of them {steps})"
    count = len(rec.batch_ids)
    where = (f"written to {rec.input_file} (nothing sent)" if not count
             else f"sent as {rec.provider} batch{'es' if count > 1 else ''} "
             f"{', '.join(rec.batch_ids)}")
    cost = ("cost unknown (no price for this model)" if done.cost is None else
            f"estimated cost at batch price (half the list price): ${done.cost[0]:.4f}-"
            f"${done.cost[1]:.4f}")
    again = "; submit again after collect" if missing.frontier else ""
    return [f"{what}, {missing.cached} already cached; {where}{again}", cost,
            f"state: {done.folder / 'batch.json'}"]


def describe_collect(record: BatchRecord, done: Ingested, *, out: Path | None) -> list[str]:
    """The lines ``collect`` prints."""
    why = ", ".join(f"{n} {kind}" for kind, n in sorted(done.failed.items()))
    extra = [f"failed lines: {why}" if why else "",
             f"{done.missing} lines had no result" if done.missing else "",
             f"{done.unknown} result lines name no request of this batch (not stored)"
             if done.unknown else ""]
    if done.failed.get("no-logprobs"):
        extra.append("the server gave no log-probabilities: submit with --method sample (a "
                     "live run falls back to it by itself)")
    return [f"stored {done.stored}, failed {done.failed_total}; {next_steps(record, out)}",
            *[x for x in extra if x]]


def run_args(argv: Sequence[str]) -> list[str]:
    """The run's arguments of a ``batch submit`` command line (without ``--out``, ``--write``)."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in ("--out", "--write"):
            skip = "=" not in arg
            continue
        kept.append(arg)
    return kept

