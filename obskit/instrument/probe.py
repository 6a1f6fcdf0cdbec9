"""Health probes: send golden requests to a live ``/predict`` and check the answers.

A golden file is JSON lines ``{"features": {…}, "prediction": …, "score": …}`` (``score``
optional; README, "Golden files"). Each request passes when the service answers HTTP 200
within the latency budget with the same ``prediction`` and, when the golden line has a
score, a ``score`` within the tolerance. Only the standard library is used (``urllib``),
so probing needs no extra dependency. The command line is in
:mod:`obskit.instrument.probe_cli`.
"""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obskit._version import __version__
from obskit.exceptions import ConfigError, InputError

__all__ = ["PROBE_HEADER", "GoldenRequest", "ProbeResult", "read_golden", "predict_url",
           "check_answer", "send", "probe_round", "result_record", "append_results"]

#: the header that marks a probe's request as synthetic: the example service traces and
#: counts it but writes no prediction log row (``Instrumentation.prediction(synthetic=)``)
PROBE_HEADER = "X-Obskit-Probe"


@dataclass(frozen=True)
class GoldenRequest:
    """One golden request: the features to send and the expected answer.

    Attributes
    ----------
    line : int
        1-based line number in the golden file (the request's number in tables/results).
    features : dict
        Sent as ``{"features": features}``.
    prediction : Any
        The expected ``prediction`` (compared with ``==``).
    score : float or None
        The expected ``score``, or None when the golden line has none.
    """

    line: int
    features: dict[str, Any]
    prediction: Any
    score: float | None = None


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one golden request.

    Attributes
    ----------
    golden : GoldenRequest
        The request sent.
    timestamp : str
        When it was sent, UTC ISO-8601 with ``Z``.
    status : int or None
        HTTP status; None when no HTTP answer came (connection refused, timeout).
    latency_ms : float or None
        Time from sending to the whole answer read; None without an answer.
    prediction, score : Any
        What the service answered (None when missing).
    reason : str or None
        Why it failed (reasons joined with ``"; "``), None when it passed.
    """

    golden: GoldenRequest
    timestamp: str
    status: int | None
    latency_ms: float | None
    prediction: Any
    score: Any
    reason: str | None

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return self.reason is None


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def read_golden(path: str | Path) -> list[GoldenRequest]:
    """Read a golden file of JSON lines (blank lines skipped).

    Parameters
    ----------
    path : str or Path
        The golden JSONL file.

    Returns
    -------
    list of GoldenRequest
        One per non-blank line, in file order.

    Raises
    ------
    InputError
        When the file is missing or empty, or a line is not a JSON object with a
        ``features`` object and a ``prediction``, or has a ``score`` that is not a
        finite number; the message names the file and line.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read the golden file: {exc}", path=str(p)) from exc
    out = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{p}, line {n}"
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not JSON ({exc.msg}); expected one object per line "
                             '{"features": {...}, "prediction": ...}', path=str(p),
                             line=n) from exc
        if not isinstance(row, dict) or not isinstance(row.get("features"), dict):
            raise InputError(f'{where}: expected an object with a "features" object',
                             path=str(p), line=n)
        if "prediction" not in row:
            raise InputError(f'{where}: no "prediction" (the expected answer)',
                             path=str(p), line=n)
        score = row.get("score")
        if score is not None and _score(score) is None:
            raise InputError(f'{where}: "score" must be a finite number, got {score!r}',
                             path=str(p), line=n)
        out.append(GoldenRequest(n, row["features"], row["prediction"],
                                 None if score is None else float(score)))
    if not out:
        raise InputError(f"{p}: the golden file has no requests", path=str(p))
    return out


def predict_url(url: str) -> str:
    """The ``/predict`` URL of a service: ``url`` itself when its path ends with
    ``/predict``, else ``/predict`` appended to its path (``http://host:8000`` →
    ``http://host:8000/predict``; ``http://host/api/`` → ``http://host/api/predict``).

    Raises
    ------
    ConfigError
        When ``url`` is not an ``http://`` or ``https://`` URL with a host.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"URL must be http(s)://HOST[:PORT][/path], got {url!r}", key="url")
    path = parts.path.rstrip("/")
    if not path.endswith("/predict"):
        path += "/predict"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _detail(body: Any, limit: int = 200) -> str:
    """What an error answer says: FastAPI's ``detail`` (a text, or the first validation
    error's field and message), else the text of the body; at most ``limit`` characters."""
    detail = body.get("detail") if isinstance(body, Mapping) else body
    if isinstance(detail, list) and detail and isinstance(detail[0], Mapping):
        first = detail[0]
        loc = ".".join(str(x) for x in first.get("loc", ()))
        detail = f"{loc}: {first.get('msg', '')}" if loc else first.get("msg", "")
    text = "" if detail is None else str(detail)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_answer(golden: GoldenRequest, status: int | None, body: Any,
                 latency_ms: float | None, *, tolerance: float = 1e-6,
                 budget_ms: float = 500.0) -> str | None:
    """Why an answer fails the golden request, or None when it passes.

    Parameters
    ----------
    golden : GoldenRequest
        The expected answer.
    status : int or None
        HTTP status of the answer (None: no answer).
    body : Any
        The decoded JSON body (anything else fails the prediction check).
    latency_ms : float or None
        Request latency.
    tolerance : float, default 1e-6
        Largest accepted ``|score - expected score|``.
    budget_ms : float, default 500.0
        Largest accepted latency.

    Returns
    -------
    str or None
        The failed checks joined with ``"; "``, e.g. ``"prediction 1, expected 0"``.

    Examples
    --------
    >>> g = GoldenRequest(1, {"x": 1}, 0, 0.25)
    >>> check_answer(g, 200, {"prediction": 0, "score": 0.25}, 12.0) is None
    True
    >>> check_answer(g, 200, {"prediction": 1, "score": 0.25}, 700.0)
    'prediction 1, expected 0; latency 700 ms > budget 500 ms'
    >>> check_answer(g, 422, {"detail": [{"loc": ["body", "features", "x"],
    ...                                   "msg": "Field required"}]}, 3.0)
    'HTTP 422, expected 200 (body.features.x: Field required)'
    """
    if status is None:
        return "no answer"
    reasons = []
    if status != 200:
        detail = _detail(body)
        reasons.append(f"HTTP {status}, expected 200" + (f" ({detail})" if detail else ""))
    elif not isinstance(body, Mapping):
        reasons.append("the answer is not a JSON object")
    else:
        got = body.get("prediction")
        if "prediction" not in body:
            reasons.append('no "prediction" in the answer')
        elif got != golden.prediction or isinstance(got, bool) != isinstance(
                golden.prediction, bool):
            reasons.append(f"prediction {json.dumps(got)}, expected "
                           f"{json.dumps(golden.prediction)}")
        if golden.score is not None:
            score = _score(body.get("score"))
            if score is None:
                reasons.append(f"score {json.dumps(body.get('score'))}, expected a number")
            elif abs(score - golden.score) > tolerance:
                reasons.append(f"score {score:.6g}, expected {golden.score:.6g} (off by "
                               f"{abs(score - golden.score):.3g} > tolerance {tolerance:g})")
    if latency_ms is not None and latency_ms > budget_ms:
        reasons.append(f"latency {latency_ms:.0f} ms > budget {budget_ms:g} ms")
    return "; ".join(reasons) or None


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def send(url: str, features: Mapping[str, Any], *,
         timeout_s: float = 5.0) -> tuple[int | None, Any, float | None, str | None]:
    """POST ``{"features": features}`` to ``url`` as JSON.

    Returns
    -------
    tuple
        ``(status, body, latency_ms, error)``: the HTTP status (None without an answer),
        the decoded JSON body (the raw text when it is not JSON), the latency, and why no
        answer came (connection refused, timeout) or None.
    """
    data = json.dumps({"features": dict(features)}).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "Accept": "application/json",
                                          "User-Agent": f"obskit-probe/{__version__}",
                                          PROBE_HEADER: "1"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:  # an answer, with a non-2xx status
        status, raw = exc.code, exc.read()
    except TimeoutError:
        return None, None, None, f"no answer within {timeout_s:g} s"
    except urllib.error.URLError as exc:
        why = exc.reason
        if isinstance(why, TimeoutError):
            return None, None, None, f"no answer within {timeout_s:g} s"
        text = why.strerror if isinstance(why, OSError) and why.strerror else str(why)
        return None, None, None, f"cannot connect to {url}: {text}"
    except (ConnectionError, OSError) as exc:  # reset mid-answer, ...
        return None, None, None, f"connection to {url} failed: {exc}"
    latency_ms = (time.perf_counter() - t0) * 1000.0
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = raw.decode("utf-8", "replace")
    return status, body, latency_ms, None


def probe_round(url: str, golden: Sequence[GoldenRequest], *, tolerance: float = 1e-6,
                budget_ms: float = 500.0, timeout_s: float = 5.0) -> list[ProbeResult]:
    """Send every golden request once to ``url`` (a ``/predict`` URL) and check it.

    Returns
    -------
    list of ProbeResult
        One per golden request, in order.
    """
    results = []
    for g in golden:
        stamp = _utc_now()
        status, body, latency_ms, error = send(url, g.features, timeout_s=timeout_s)
        reason = error or check_answer(g, status, body, latency_ms, tolerance=tolerance,
                                       budget_ms=budget_ms)
        answer = body if isinstance(body, Mapping) else {}
        results.append(ProbeResult(g, stamp, status, latency_ms, answer.get("prediction"),
                                   answer.get("score"), reason))
    return results


def result_record(url: str, result: ProbeResult) -> dict[str, Any]:
    """The results-file line of ``result``: ``timestamp`` (UTC, ``Z``), ``url``,
    ``request`` (golden line number), ``status`` (or None), ``latency_ms``, ``passed``,
    ``reason`` (None or text) — what ``sources.probes`` of a report reads."""
    latency = None if result.latency_ms is None else round(result.latency_ms, 3)
    return {"timestamp": result.timestamp, "url": url, "request": result.golden.line,
            "status": result.status, "latency_ms": latency, "passed": result.passed,
            "reason": result.reason}


def append_results(path: str | Path, url: str, results: Sequence[ProbeResult]) -> None:
    """Append one JSON line per result to ``path`` (created with its folder if missing)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "a", encoding="utf-8", newline="\n") as fh:
        fh.writelines(json.dumps(result_record(url, r)) + "\n" for r in results)
