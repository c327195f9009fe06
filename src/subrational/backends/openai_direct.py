"""One JSON POST through the openai SDK's own HTTP client, without the SDK's request machinery.

The SDK's ``request()`` builds options, headers, an idempotency key and a URL per call, and
copies its options: about a third of the client's CPU per call at 32 requests in flight
(``benchmarks/bench_http.py``), which is what keeps a pipelined client from the server's
capacity. The backend posts plain JSON bodies it has built itself and retries on its own
(:mod:`.openai_loop`), so :func:`post_json` sends them straight through the SDK's HTTP client
(the same connection pool, timeouts and TLS settings), with the SDK's headers computed once per
client, and turns what goes wrong into the SDK's own exceptions, exactly as ``request()`` does:

* a reply with status 400 or more: the SDK's status error for it (``BadRequestError``,
  ``RateLimitError``, ... with the parsed body), made by the SDK itself;
* a timeout: ``APITimeoutError``; any other transport failure: ``APIConnectionError``; both
  chained to the HTTP library's exception (``__cause__``), which the retry logic reads.

A client whose HTTP layer is not the one expected (another SDK version) takes the SDK's
low-level ``post`` instead: the same request, only slower.
"""

from __future__ import annotations

import json
import sys
import weakref
from typing import Any

from .openai_loop import openai_sdk

__all__ = ["post_json", "http_library"]

_PREPARED: weakref.WeakKeyDictionary[Any, tuple[Any, Any, dict[str, str], dict[str, Any]]] = \
    weakref.WeakKeyDictionary()
"""SDK client -> (its HTTP client, the HTTP library module, the headers of every request, the
URL of each path posted to)."""


def http_library(client: Any) -> Any:
    """The module of the HTTP library behind an SDK client, ``None`` when there is none.

    ``httpx``, or newer SDKs' ``httpx2``: the library whose client class the SDK subclasses.
    """
    for cls in type(getattr(client, "_client", None)).__mro__:
        library = cls.__module__.partition(".")[0]
        if library not in ("openai", "anthropic", "builtins") and library in sys.modules:
            module = sys.modules[library]
            if hasattr(module, "Response") and hasattr(module, "TimeoutException"):
                return module
    return None


def _prepared(client: Any) -> tuple[Any, Any, dict[str, str], dict[str, Any]] | None:
    if client not in _PREPARED:
        library = http_library(client)
        if library is None or getattr(client, "custom_auth", None) is not None:
            return None  # an auth flow of the SDK's own: only request() knows it
        headers = {**client.default_headers, **client.auth_headers}
        # Omit/NotGiven markers stand for "no such header"; every real header is text.
        _PREPARED[client] = (client._client, library,
                          {k: v for k, v in headers.items() if isinstance(v, str)}, {})
    return _PREPARED[client]


async def post_json(client: Any, path: str, body: dict[str, Any]) -> Any:
    """POST ``body`` as JSON to ``path`` under the client's base URL; the raw HTTP response.

    Raises the SDK's exceptions as its ``request()`` would (see the module docstring).
    """
    prepared = _prepared(client)
    if prepared is None:
        library = http_library(client)
        cast = library.Response if library is not None else object
        return await client.post("/" + path, cast_to=cast, body=body)
    http, library, headers, urls = prepared
    openai = openai_sdk()
    content = json.dumps(body, separators=(",", ":")).encode()
    url = urls.get(path)
    if url is None:
        url = urls[path] = client.base_url.join(path)
    try:
        response = await http.post(url, content=content, headers=headers)
    except library.TimeoutException as exc:
        raise openai.APITimeoutError(request=exc.request) from exc
    except library.HTTPError as exc:
        raise openai.APIConnectionError(request=_request_of(exc, library, url)) from exc
    if response.status_code >= 400:
        raise client._make_status_error_from_response(response)
    return response


def _request_of(exc: Any, library: Any, url: Any) -> Any:
    """The request a transport error belongs to (a bare one where the library kept none)."""
    try:
        return exc.request
    except RuntimeError:
        return library.Request("POST", url)
