"""Downloads from the Overpass API (through osmnx): bounded retries, clear errors, the OSM date.

osmnx sends the Overpass queries; :func:`call_overpass` runs one osmnx call
(``ox.graph_from_polygon``, ``ox.features_from_polygon``…) under qpvgeo's rules:

- an answer HTTP 429 (too many requests) or 504 (server busy), a timeout, a
  cut connection or a truncated answer is retried at most
  :data:`qpvgeo.settings.download_retries` times, after
  :data:`qpvgeo.settings.download_backoff_s` seconds, doubled at each retry
  (osmnx alone would wait 55 s and retry without end);
- when the retries are spent, or on any other failure, one
  :class:`~qpvgeo.DownloadError` says what was downloaded, what went wrong and
  what to do;
- the OSM base date of the answer (``osm3s.timestamp_osm_base``: the state of
  the OSM database the server answered from) is returned, for the provenance.

osmnx's own HTTP cache is not used for these calls: qpvgeo keeps what it
downloads in the data directory (a walk network per QPV, the barriers per
département) together with its OSM date, and a later run reads those files
without any request. The Overpass server is osmnx's (``ox.settings.overpass_url``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from .. import settings
from .._errors import DownloadError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: HTTP statuses of a busy Overpass server: retried
RETRY_STATUSES = (429, 502, 503, 504)


class _TransientError(Exception):
    """A failure worth retrying (busy server, timeout, cut or truncated answer)."""


@dataclass
class _Seen:
    """What the answers of one call said: requests sent, OSM base dates."""

    requests: int = 0
    osm_base: list[str] = field(default_factory=list)


def _hook(seen: _Seen) -> Callable:
    def on_response(response, *args: Any, **kwargs: Any):
        if not response.request.url.rstrip("/").endswith("/interpreter"):
            return None  # osmnx's status request (rate limit)
        seen.requests += 1
        if response.status_code in RETRY_STATUSES:
            response.close()
            status = f"HTTP {response.status_code} {response.reason}"
            raise _TransientError(f"the server answered {status}")
        if not response.ok:
            return None  # osmnx raises its own error, turned into a DownloadError below
        try:
            answer = response.json()
        except ValueError:
            response.close()
            raise _TransientError(
                f"the answer is truncated or not JSON ({len(response.content):,} bytes received)"
            ) from None
        if not isinstance(answer, dict):
            return None  # osmnx says it is not a dict of results
        remark = str(answer.get("remark", ""))
        if "error" in remark.lower():  # Overpass ran out of time or memory: a partial answer
            raise _TransientError(f"the answer is incomplete (Overpass remark: {remark!r})")
        stamp = (answer.get("osm3s") or {}).get("timestamp_osm_base")
        if stamp:
            seen.osm_base.append(str(stamp))
        return None

    return on_response


@contextlib.contextmanager
def _hooked() -> Iterator[_Seen]:
    """osmnx's requests go through :func:`_hook`, without osmnx's HTTP cache, for the block."""
    import osmnx as ox

    seen = _Seen()
    kwargs, use_cache = ox.settings.requests_kwargs, ox.settings.use_cache
    hooks = dict(kwargs.get("hooks") or {})
    mine = hooks.get("response", [])
    hooks["response"] = [*(mine if isinstance(mine, list) else [mine]), _hook(seen)]
    ox.settings.requests_kwargs = {**kwargs, "hooks": hooks}
    ox.settings.use_cache = False
    try:
        yield seen
    finally:
        ox.settings.requests_kwargs, ox.settings.use_cache = kwargs, use_cache


def call_overpass(func: Callable[[], T], what: str, *, fix: str) -> tuple[T, str | None]:
    """Run ``func`` (an osmnx call that queries Overpass) with bounded retries.

    Parameters
    ----------
    func : callable
        The osmnx call, without arguments (a ``lambda``).
    what : str
        What is downloaded, for the error message (``"the walk network of QPV …"``).
    fix : str
        What the user can do instead, for the error message.

    Returns
    -------
    result, osm_base
        What ``func`` returned, and the OSM base timestamp of the answers (ISO
        8601, the earliest when there were several; None when the server gave none).

    Raises
    ------
    DownloadError
        The retries are spent, or the download failed for another reason.
    """
    retries = max(0, int(settings.download_retries))
    cut = _cut()
    url = _server()
    for attempt in range(retries + 1):
        with _hooked() as seen:
            try:
                result = func()
            except (_TransientError, *cut) as exc:
                reason = _reason(exc)
            except Exception as exc:  # osmnx: an HTTP error, an empty answer…
                raise DownloadError(
                    f"download of {what} from the Overpass server {url} failed: "
                    f"{type(exc).__name__}: {exc}. {fix}"
                ) from exc
            else:
                return result, min(seen.osm_base) if seen.osm_base else None
        if attempt < retries:
            pause = float(settings.download_backoff_s) * 2**attempt
            log.warning("%s: %s; retry %d/%d in %.3g s", what, reason, attempt + 1, retries, pause)
            time.sleep(pause)
    raise DownloadError(
        f"download of {what} from the Overpass server {url} failed after {retries + 1} "
        f"attempt(s): {reason}. Retry later (a busy server answers again after a while), or {fix}"
    )


def _cut() -> tuple[type[BaseException], ...]:
    """requests' errors of a timeout or of a connection cut before the whole answer came."""
    import requests

    return (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


def _reason(exc: BaseException) -> str:
    import requests

    if isinstance(exc, requests.Timeout):
        import osmnx as ox

        return f"no answer within {ox.settings.requests_timeout} s (timeout)"
    if isinstance(exc, requests.ConnectionError):
        return f"the connection failed ({exc})"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"the answer is truncated: the connection closed before its end ({exc})"
    return str(exc)


def _server() -> str:
    import osmnx as ox

    return str(ox.settings.overpass_url)


def osm_date_fr(stamp: str | None) -> str | None:
    """« OSM au JJ/MM/AAAA » from an OSM base timestamp (``2026-01-08T06:25:44Z``), or None."""
    if not stamp:
        return None
    try:
        day = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    return f"OSM au {day:%d/%m/%Y}"
