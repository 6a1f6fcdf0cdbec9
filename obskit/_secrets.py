"""Secrets kept out of results, logs and errors: the user, password and query of a URL.

Foundation module (anyone may import it). Sinks record where they delivered, and errors
quote URLs; a Pushgateway, MLflow or OTLP URL may carry ``user:password@`` or a token in
its query, which must never reach ``alerts.json``, an audit log or a terminal.
"""

from __future__ import annotations

import re
import urllib.parse

__all__ = ["redact_url", "redact_text"]

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def redact_url(url: str) -> str:
    """``url`` without its user, password, query and fragment (each may hold a secret).

    Parameters
    ----------
    url : str
        A URL or URI (``https://…``, ``sqlite:////abs/path.db``, ``databricks``).

    Returns
    -------
    str
        ``url`` unchanged when it holds none of them, else ``scheme://host[:port]/path``.

    Examples
    --------
    >>> redact_url("https://a:b@push.example/p?token=x#f")
    'https://push.example/p'
    >>> redact_url("sqlite:////srv/mlflow.db")
    'sqlite:////srv/mlflow.db'
    """
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc and not parts.query and not parts.fragment:
        return url  # nothing secret (and ``sqlite:////abs/path`` stays as written)
    netloc = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else netloc + parts.path


def redact_text(text: str) -> str:
    """``text`` (an error message) with the user and password of every URL in it masked.

    Examples
    --------
    >>> redact_text("cannot reach http://alice:s3cret@10.0.0.1:5000/api")
    'cannot reach http://***@10.0.0.1:5000/api'
    """
    return _USERINFO.sub(r"\1***@", text)
