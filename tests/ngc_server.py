"""A local NGC-shaped registry on 127.0.0.1 (no network): the REST answers the NGC CLI reads, a 302 to blob
storage, torchvision-style files, a token endpoint, and scripted faults (statuses, a body cut short, a server
that ignores Range). Every request is logged, so a test can say that a cache hit made none.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@dataclass
class Registry:
    """Models as {"org/team/name": {version: {path: bytes}}}, in the order NGC lists versions (newest first)."""

    models: dict[str, dict[str, dict[str, bytes]]] = field(default_factory=dict)
    private: set[str] = field(default_factory=set)  # models that need a Bearer token
    key: str = "good-key"
    statuses: dict[str, list[int]] = field(default_factory=dict)  # path prefix -> statuses to answer first
    cut_short: set[str] = field(default_factory=set)  # blob names sent truncated (once each)
    ignore_range: bool = False
    publish_sha256: bool = True
    requests: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)

    def blob_key(self, model: str, version: str, path: str) -> str:
        return hashlib.sha1(f"{model}/{version}/{path}".encode()).hexdigest()

    def blobs(self) -> dict[str, bytes]:
        return {self.blob_key(m, v, p): data for m, vs in self.models.items() for v, files in vs.items()
                for p, data in files.items()}


def _handler(registry: Registry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            registry.requests.append(self.path)
            url = urllib.parse.urlparse(self.path)
            for prefix, queued in registry.statuses.items():
                if url.path.startswith(prefix) and queued:
                    return self._send(queued.pop(0), b"{}")
            parts = [p for p in url.path.split("/") if p]
            query = dict(urllib.parse.parse_qsl(url.query))
            if parts[:1] == ["token"]:
                return self._token()
            if parts[:1] == ["blobs"]:
                return self._blob(parts[1])
            if parts[:1] == ["models"]:  # torchvision's download.pytorch.org/models/<file>
                return self._blob(registry.blob_key("torchvision", "", parts[1]))
            if parts[:3] == ["v2", "models", "org"]:  # org/O/[team/T/]name/version/files?path=P
                rest = parts[3:]
                model = "/".join([rest[0], rest[2], rest[3]] if rest[1:2] == ["team"] else [rest[0], rest[1]])
                version = rest[-2]
                if not self._allowed(model):
                    return None
                if query.get("path") not in registry.models.get(model, {}).get(version, {}):
                    return self._send(404, b"{}")
                self.send_response(302)
                self.send_header("Location", f"/blobs/{registry.blob_key(model, version, query['path'])}")
                self.end_headers()
                return None
            return self._api(parts[2:])

        def _api(self, rest: list[str]) -> None:
            cut = rest.index("versions") if "versions" in rest else len(rest)
            model = "/".join(rest[:cut])
            if model not in registry.models:
                return self._send(404, b"{}")
            if not self._allowed(model):
                return None
            versions = registry.models[model]
            if cut == len(rest):
                return self._json({"model": {"name": model, "latestVersionIdStr": next(iter(versions))}})
            if len(rest) == cut + 1:
                return self._json({"modelVersions": [
                    {"versionId": v, "totalSizeInBytes": sum(map(len, f.values())), "status": "UPLOAD_COMPLETE"}
                    for v, f in versions.items()], "paginationInfo": {"totalPages": 1}})
            version = rest[cut + 1]
            if version not in versions:
                return self._send(404, b"{}")
            files = [{"path": p, "sizeInBytes": len(d),
                      **({"sha256_base64": base64.b64encode(hashlib.sha256(d).digest()).decode()}
                         if registry.publish_sha256 else {})} for p, d in versions[version].items()]
            return self._json({"modelFiles": files, "paginationInfo": {"totalPages": 1}})

        def _allowed(self, model: str) -> bool:
            if model in registry.private and self.headers.get("Authorization") != f"Bearer token-{registry.key}":
                self._send(401, b"{}")
                return False
            return True

        def _token(self) -> None:
            expected = base64.b64encode(f"$oauthtoken:{registry.key}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                return self._send(401, b"{}")
            return self._json({"token": f"token-{registry.key}"})

        def _blob(self, key: str) -> None:
            data = registry.blobs().get(key)
            if data is None:
                return self._send(404, b"")
            start = 0
            asked = self.headers.get("Range")
            if asked:
                registry.ranges.append(asked)
            if asked and not registry.ignore_range:
                start = int(asked.removeprefix("bytes=").split("-")[0])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            body = data[start:]
            if key in registry.cut_short:
                registry.cut_short.discard(key)
                body = body[: len(body) // 2]
            self.wfile.write(body)
            self.wfile.flush()
            if key not in registry.cut_short and len(body) < len(data) - start:
                self.close_connection = True
            return None

        def _json(self, value: object) -> None:
            self._send(200, json.dumps(value).encode(), "application/json")

        def _send(self, status: int, body: bytes, kind: str = "application/octet-stream") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serve(registry: Registry) -> Iterator[str]:
    """Serve `registry` on a free port of 127.0.0.1; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(registry))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def point_taokit_at(base: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send taokit's NGC, token and torchvision requests to `base`, cache under `home`, retry without waiting."""
    from taokit.hub import http, sources

    for name, value in (("TAOKIT_NGC_URL", base), ("TAOKIT_NGC_AUTH_URL", f"{base}/token"),
                        ("TAOKIT_TORCHVISION_URL", f"{base}/models"), ("TAOKIT_HOME", str(home)),
                        ("NO_PROXY", "127.0.0.1")):  # a CI proxy must not capture the local server
        monkeypatch.setenv(name, value)
    for name in ("TAOKIT_OFFLINE", "NGC_API_KEY", "NGC_CLI_API_KEY", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(http, "RETRY_WAITS_S", [0.0, 0.0, 0.0])
    monkeypatch.setattr(sources, "_RESOLVED", {})
