"""Fake batch endpoints over real HTTP on 127.0.0.1, for the official SDKs.

:class:`FakeOpenAIBatchServer` is a :class:`~openai_server.FakeOpenAIServer` (its chat
completions and ``GET /models`` still work) that also serves the OpenAI Batch API: ``POST
/v1/files`` (multipart, ``purpose=batch``), ``GET /v1/files/{id}/content``, ``POST
/v1/batches`` and ``GET /v1/batches/{id}``. :class:`FakeAnthropicBatchServer` is a
:class:`~anthropic_server.FakeAnthropicServer` that also serves Message Batches: ``POST
/v1/messages/batches``, ``GET /v1/messages/batches/{id}`` and ``GET .../results``.

Each line is answered by the parent server's own logic (``completion`` / ``message``), so a
batch line gets the answer a live request with the same body gets. A batch ends after
``polls`` retrievals (0: at once). Fault mode: ``fail_line(body) -> bool`` makes a line come
back as an error (OpenAI: in the error file with status 500; Anthropic: ``errored``); the
OpenAI server's own ``faults``/``fault_if`` apply too (HTTP faults become error lines, content
faults such as ``nan-logprobs`` spoil a 200 body).
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from anthropic_server import FakeAnthropicServer, _invalid_request
from anthropic_server import _error as anthropic_error
from anthropic_server import _RequestHandler as _AnthropicHandler
from anthropic_server import _Server as _AnthropicHTTP
from openai_server import FakeOpenAIServer
from openai_server import _error as openai_error
from openai_server import _RequestHandler as _OpenAIHandler
from openai_server import _Server as _OpenAIHTTP

__all__ = ["FakeOpenAIBatchServer", "FakeAnthropicBatchServer"]

LineFault = Callable[[dict[str, Any]], bool]
_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # what Anthropic takes
_NO_BODY = {"invalid-json", "empty-body", "html-body", "hang"}


def _start(fake: Any, server_class: Any, handler_class: Any) -> None:
    fake._httpd = server_class(("127.0.0.1", 0), handler_class)
    fake._httpd.fake = fake
    fake._thread = threading.Thread(target=fake._httpd.serve_forever,
                                    kwargs={"poll_interval": 0.05}, daemon=True)
    fake._thread.start()


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """``{field: (filename, bytes)}`` of a multipart/form-data body."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    return {part.get_param("name", header="content-disposition"):
            (part.get_filename(), part.get_payload(decode=True)) for part in message.iter_parts()}


class FakeOpenAIBatchServer(FakeOpenAIServer):
    """The fake OpenAI server plus the Batch API (module docstring).

    Attributes:
        files: Uploaded and produced files, ``id -> bytes``.
        batches: Batches by id (the Batch objects as served).
        batch_bodies: The body of every batch line answered, in order.
        uploads: How many batch files were uploaded.
    """

    def __init__(self, *args: Any, polls: int = 0, fail_line: LineFault | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.polls, self.fail_line = polls, fail_line
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_bodies: list[dict[str, Any]] = []
        self.uploads = 0
        self._polled: dict[str, int] = {}

    def __enter__(self) -> FakeOpenAIBatchServer:
        _start(self, _OpenAIHTTP, _OpenAIBatchHandler)
        return self

    def upload(self, data: bytes) -> dict[str, Any]:
        file_id = f"file-{uuid.uuid4().hex[:20]}"
        with self._lock:
            self.files[file_id] = data
            self.uploads += 1
        return {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                "filename": "batch.jsonl", "purpose": "batch", "status": "processed"}

    def create_batch(self, spec: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        data = self.files.get(spec.get("input_file_id", ""))
        if data is None:
            return 404, openai_error("No such file", "invalid_request_error", None)
        out, errors = [], []
        for raw in data.splitlines():
            line = json.loads(raw)
            if (line.get("method"), line.get("url")) != ("POST", spec["endpoint"]):
                status, body = 400, openai_error(f"line for {line.get('url')!r} in a batch "
                                                 f"for {spec['endpoint']!r}",
                                                 "invalid_request_error", None)
            else:
                status, body = self._answer_line(line["body"])
            item = {"id": f"batch_req_{uuid.uuid4().hex[:12]}", "custom_id": line["custom_id"],
                    "response": {"status_code": status, "request_id": "req", "body": body},
                    "error": None}
            (out if status == 200 else errors).append(json.dumps(item))
        batch_id = f"batch_{uuid.uuid4().hex[:20]}"
        files = {}
        for name, rows in (("output_file_id", out), ("error_file_id", errors)):
            if rows:
                files[name] = self.upload("\n".join(rows).encode() + b"\n")["id"]
        with self._lock:
            self.uploads -= len(files)  # results are not uploads
            self.batches[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": spec["endpoint"],
                "input_file_id": spec["input_file_id"],
                "completion_window": spec["completion_window"], "created_at": int(time.time()),
                "status": "in_progress", "output_file_id": None, "error_file_id": None,
                "request_counts": {"total": len(out) + len(errors), "completed": 0,
                                   "failed": 0}, "_files": files,
                "_counts": {"completed": len(out), "failed": len(errors)}}
            self._polled[batch_id] = 0
        return 200, self._visible(batch_id)

    def _answer_line(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.batch_bodies.append(body)
        if self.fail_line is not None and self.fail_line(body):
            return 500, openai_error("Injected batch line fault.", "server_error", None)
        refusal = self.refusal(body)
        if refusal is not None:
            return 400, openai_error(refusal, "invalid_request_error", None)
        fault = self.fault_for(body)  # the parent's faults: HTTP ones become error lines
        if fault is not None and (fault.startswith("http-") or fault in _NO_BODY):
            return int(fault[5:]) if fault.startswith("http-") else 502, openai_error(
                f"Injected fault {fault}.", "server_error", None)
        return 200, self.completion(body, fault)

    def retrieve(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        if batch_id not in self.batches:
            return 404, openai_error(f"No batch found with id '{batch_id}'.",
                                     "invalid_request_error", None)
        with self._lock:
            self._polled[batch_id] += 1
            batch = self.batches[batch_id]
            if self._polled[batch_id] > self.polls and batch["status"] != "completed":
                batch.update(status="completed", completed_at=int(time.time()),
                             **batch["_files"])
                batch["request_counts"].update(batch["_counts"])
        return 200, self._visible(batch_id)

    def _visible(self, batch_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.batches[batch_id].items() if not k.startswith("_")}


class _OpenAIBatchHandler(_OpenAIHandler):
    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        fake: FakeOpenAIBatchServer = self.server.fake
        path = self.path.split("?")[0]
        if path.startswith("/v1/files/") and path.endswith("/content"):
            data = fake.files.get(path[len("/v1/files/"):-len("/content")])
            if data is None:
                self._send(404, openai_error("No such file", "invalid_request_error", None), {})
            else:
                self._send(200, ("application/octet-stream", data), {})
        elif path.startswith("/v1/batches/"):
            self._send(*fake.retrieve(path[len("/v1/batches/"):]), {})
        else:
            super().do_GET()

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        fake: FakeOpenAIBatchServer = self.server.fake
        if self.path == "/v1/files":
            length = int(self.headers.get("Content-Length") or 0)
            fields = _multipart(self.headers["Content-Type"], self.rfile.read(length))
            assert fields["purpose"][1] == b"batch", fields["purpose"]
            self._send(200, fake.upload(fields["file"][1]), {})
        elif self.path == "/v1/batches":
            length = int(self.headers.get("Content-Length") or 0)
            self._send(*fake.create_batch(json.loads(self.rfile.read(length))), {})
        else:
            super().do_POST()


class FakeAnthropicBatchServer(FakeAnthropicServer):
    """The fake Anthropic server plus Message Batches (module docstring).

    Attributes:
        batches: Batches by id (as served, with their results).
        batch_bodies: The params of every batch request answered, in order.
    """

    def __init__(self, *args: Any, polls: int = 0, fail_line: LineFault | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.polls, self.fail_line = polls, fail_line
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_bodies: list[dict[str, Any]] = []
        self._polled: dict[str, int] = {}

    def __enter__(self) -> FakeAnthropicBatchServer:
        _start(self, _AnthropicHTTP, _AnthropicBatchHandler)
        return self

    def create_batch(self, spec: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        ids = [r.get("custom_id") for r in spec.get("requests", [])]
        bad = [i for i in ids if not isinstance(i, str) or not _CUSTOM_ID.fullmatch(i)]
        if bad or len(set(ids)) < len(ids):
            return 400, anthropic_error(400, f"requests: custom_id must match "
                                        f"{_CUSTOM_ID.pattern} and be unique ({bad[:1]})")
        results = []
        for request in spec["requests"]:
            results.append({"custom_id": request["custom_id"],
                            "result": self._answer_line(request["params"])})
        batch_id = f"msgbatch_{uuid.uuid4().hex[:20]}"
        counts = {"processing": len(results), "succeeded": 0, "errored": 0, "canceled": 0,
                  "expired": 0}
        with self._lock:
            self.batches[batch_id] = {
                "id": batch_id, "type": "message_batch", "processing_status": "in_progress",
                "request_counts": counts, "created_at": "2026-01-01T00:00:00Z",
                "expires_at": "2026-01-02T00:00:00Z", "ended_at": None, "archived_at": None,
                "cancel_initiated_at": None, "results_url": None, "_results": results}
            self._polled[batch_id] = 0
        return 200, self._visible(batch_id)

    def _answer_line(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.batch_bodies.append(body)
        problem = _invalid_request(body)
        if problem is None and self.fail_line is not None and self.fail_line(body):
            problem = "Injected batch line fault."
        if problem is not None:
            return {"type": "errored", "error": {"type": "error", "error": {
                "type": "api_error", "message": problem}}}
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            draw = self._answered[key]
            self._answered[key] += 1
        return {"type": "succeeded", "message": self.message(body, key, draw)}

    def retrieve(self, batch_id: str) -> dict[str, Any] | None:
        if batch_id not in self.batches:
            return None
        with self._lock:
            self._polled[batch_id] += 1
            batch = self.batches[batch_id]
            if self._polled[batch_id] > self.polls and batch["processing_status"] != "ended":
                kinds = [r["result"]["type"] for r in batch["_results"]]
                batch["request_counts"].update(processing=0,
                                               succeeded=kinds.count("succeeded"),
                                               errored=kinds.count("errored"))
                batch.update(processing_status="ended", ended_at="2026-01-01T01:00:00Z",
                             results_url=f"{self.base_url}/v1/messages/batches/{batch_id}"
                             "/results")
        return self._visible(batch_id)

    def _visible(self, batch_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.batches[batch_id].items() if not k.startswith("_")}


class _AnthropicBatchHandler(_AnthropicHandler):
    def _authorised(self) -> bool:
        fake: FakeAnthropicBatchServer = self.server.fake
        bearer = (self.headers.get("authorization") or "").removeprefix("Bearer ")
        if fake.api_key in (self.headers.get("x-api-key"), bearer):
            return True
        self._send(401, anthropic_error(401, "invalid x-api-key"), {})
        return False

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        fake: FakeAnthropicBatchServer = self.server.fake
        path = self.path.split("?")[0]
        if not self._authorised():
            return
        prefix = "/v1/messages/batches/"
        if not path.startswith(prefix):
            self._send(404, anthropic_error(404, f"Not found: {path}"), {})
            return
        batch_id, _, rest = path[len(prefix):].partition("/")
        batch = fake.retrieve(batch_id) if rest != "results" else (
            fake._visible(batch_id) if batch_id in fake.batches else None)
        if batch is None:
            self._send(404, anthropic_error(404, f"message batch {batch_id} not found"), {})
        elif rest == "results":
            rows = "".join(json.dumps(r) + "\n" for r in fake.batches[batch_id]["_results"])
            self._send(200, ("application/binary", rows.encode()), {})
        else:
            self._send(200, batch, {})

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        fake: FakeAnthropicBatchServer = self.server.fake
        if self.path != "/v1/messages/batches":
            super().do_POST()
            return
        length = int(self.headers.get("Content-Length") or 0)
        spec = json.loads(self.rfile.read(length) or b"{}")
        if self._authorised():
            self._send(*fake.create_batch(spec), {})
