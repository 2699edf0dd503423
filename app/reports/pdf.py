"""The annual report as a PDF, when WeasyPrint is installed (the optional extra `pdf`).

WeasyPrint renders the page's own HTML with the print stylesheet. It never fetches the
network: the URL fetcher serves the app's static folders from disk (the stylesheets the page
links) and refuses every other URL, so a report renders the same offline, and nothing in a
page can make the server reach out. The charts of the dashboard are ECharts (JavaScript,
which WeasyPrint does not run): the annual page draws its bars as SVG on the server instead.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


@lru_cache(maxsize=1)
def available() -> bool:
    """WeasyPrint imports (it raises OSError, not ImportError, when Pango is missing)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def local_path(url: str, base_url: str, static: Mapping[str, str]) -> Path | None:
    """The file on disk behind `url` when it is one of the app's static files, else None.

    `static` maps URL prefixes (`/static/`, `/reports/static/`) to folders. Only URLs of the
    page's own origin; never a path outside the folder (`..`, symlinks out).
    """
    parts, base = urlsplit(url), urlsplit(base_url)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        return None
    path = unquote(parts.path)
    for prefix in sorted(static, key=len, reverse=True):
        if not path.startswith(prefix):
            continue
        folder = Path(static[prefix]).resolve()
        candidate = (folder / path[len(prefix) :]).resolve()
        if candidate.is_relative_to(folder) and candidate.is_file():
            return candidate
        return None
    return None


def _fetcher(base_url: str, static: Mapping[str, str]) -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFilesOnly(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url, headers)  # inline data: no network
            path = local_path(url, base_url, static)
            if path is None:
                raise ValueError(f"the PDF renders from local static files only: {url} not fetched")
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": kind})

    return LocalFilesOnly(allowed_protocols=("data", "http", "https"), allow_redirects=False, timeout=1)


def render(html: str, *, base_url: str, static: Mapping[str, str]) -> bytes:
    """The PDF of a page. Raises: RuntimeError when WeasyPrint is not installed."""
    if not available():
        raise RuntimeError("WeasyPrint is not installed")
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url, url_fetcher=_fetcher(base_url, static)).write_pdf()
