"""URLs of OpenAI-compatible endpoints: checked before any call, redacted wherever stored.

Also turns a failed connection into advice: a TLS handshake that fails on an ``https://`` URL
usually means the port speaks plain http; a connection broken off without an HTTP answer means
the port speaks another protocol (or the server crashed). "Is the server running?" is said only
when nothing listens.
"""

from __future__ import annotations

import re
import ssl
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigError

__all__ = ["check_base_url", "redact_url", "connection_advice", "protocol_mismatch"]


def redact_url(url: str) -> str:
    """``url`` without user, password, query or fragment, and without a trailing slash."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # not a URL: still never show what looks like credentials
        return _hide_userinfo(url).split("?")[0].split("#")[0].rstrip("/")
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _hide_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` blanked, for messages about a URL that won't parse."""
    return re.sub(r"^((?:[^:/?#]+:)?//)?[^/?#@]*@", r"\1***@", url)


def check_base_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host (and a valid port), else a one-line error.

    Raises:
        ConfigError: No scheme (``127.0.0.1:8000/v1``), a scheme other than http(s), no host,
            or a URL that does not parse (``http://[::1/v1``, a port out of range).
    """
    shown = _hide_userinfo(url)
    example = "write it like http://127.0.0.1:8000/v1"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        raise ConfigError(f"base URL {shown!r} is not a valid URL ({exc}); {example}") from None
    if parts.scheme not in ("http", "https"):
        if not parts.netloc:
            raise ConfigError(f"base URL {shown!r} has no http:// or https:// scheme; "
                              f"write http://{shown} (or https://)")
        raise ConfigError(f"base URL {shown!r} uses the scheme {parts.scheme!r}; the openai "
                          f"backend speaks http:// or https:// only; {example}")
    if not parts.hostname:
        raise ConfigError(f"base URL {shown!r} names no host; {example}")
    return url


def _causes(exc: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return chain


def protocol_mismatch(exc: BaseException) -> str | None:
    """``tls`` or ``http`` when the port speaks another protocol than the URL says, else None."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLError):
            return "tls"
        if type(cause).__name__ in ("RemoteProtocolError", "LocalProtocolError"):
            return "http"
    return None


def connection_advice(exc: BaseException, url: str, tries: str) -> str:
    """One line on why a connection to ``url`` failed and what to try."""
    mismatch = protocol_mismatch(exc)
    names = {type(c).__name__ for c in _causes(exc)}
    if mismatch == "tls":
        reason = next(str(c) for c in _causes(exc) if isinstance(c, ssl.SSLError))
        plain = "http://" + url.split("://", 1)[-1]
        return (f"the TLS handshake with {url} failed ({' '.join(reason.split())}): the port "
                f"probably speaks plain http (try {plain}) or another protocol, not https")
    if mismatch == "http" or names & {"ReadError", "ConnectionResetError"}:
        return (f"{url} broke off the connection without an HTTP answer ({tries}): the port "
                "probably speaks another protocol (https: use https://), or the server crashed; "
                "check the URL's port and the server's log")
    return f"cannot reach {url} ({tries}): is the server running?"
