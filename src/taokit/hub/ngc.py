"""NGC's model registry over its REST API, as the NGC CLI calls it; public models need no key.

Targets use the CLI's grammar, `org/[team/]name[:version]`. A key (NGC_API_KEY or NGC_CLI_API_KEY) is used
only when the registry refuses a request without one. TAOKIT_NGC_URL points at a mirror.
"""

from __future__ import annotations

import base64
import os
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from taokit.errors import DownloadError
from taokit.hub.http import HttpStatus, Request, get_json

MODEL_SUFFIXES = (".onnx", ".hdf5", ".h5", ".pth", ".pt", ".tlt", ".etlt", ".engine", ".plan")
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class NgcTarget:
    org: str
    team: str | None
    name: str
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> NgcTarget:
        """`org/[team/]name[:version]`, the argument of `ngc registry model download-version`."""
        model, _, version = text.strip().partition(":")
        parts = model.strip("/").split("/")
        if len(parts) not in (2, 3) or not all(_PART.match(p) for p in parts) or \
                (version and not _PART.match(version)):
            raise DownloadError(f"{text!r}: not an NGC model; write org/[team/]name[:version], e.g. "
                                "nvidia/tao/peoplenet:pruned_quantized_decrypted_v2.3.4")
        team = parts[1] if len(parts) == 3 else None
        return cls(parts[0], team, parts[-1], version or None)

    def with_version(self, version: str) -> NgcTarget:
        return NgcTarget(self.org, self.team, self.name, version)

    @property
    def model(self) -> str:
        return "/".join(p for p in (self.org, self.team, self.name) if p)

    def __str__(self) -> str:
        return f"{self.model}:{self.version}" if self.version else self.model

    @property
    def folder(self) -> str:
        """The folder `ngc registry model download-version --dest D` creates: NAME_vVERSION."""
        return f"{self.name}_v{self.version}"

    @property
    def catalog_page(self) -> str:
        team = f"/teams/{self.team}" if self.team else ""
        return f"https://catalog.ngc.nvidia.com/orgs/{self.org}{team}/models/{self.name}"


@dataclass(frozen=True)
class NgcFile:
    path: str
    size: int | None
    sha256: str | None  # hex; NGC gives base64 where it gives one at all


@dataclass(frozen=True)
class NgcVersion:
    version: str
    size: int | None
    status: str


class NgcRegistry:
    def __init__(self) -> None:
        self.base = os.environ.get("TAOKIT_NGC_URL", "https://api.ngc.nvidia.com").rstrip("/")
        self.auth_url = os.environ.get("TAOKIT_NGC_AUTH_URL", "https://authn.nvidia.com/token")
        self._token: str | None = None

    def latest_version(self, target: NgcTarget) -> str:
        info = self._get(target, f"/v2/models/{target.model}", "model")
        version = (info.get("model") or {}).get("latestVersionIdStr")
        if not version:
            raise DownloadError(f"{target}: NGC names no latest version; give one ({target.model}:VERSION, see "
                                f"`tao model download --list {target.model}`)")
        return str(version)

    def versions(self, target: NgcTarget) -> list[NgcVersion]:
        rows = self._pages(target, f"/v2/models/{target.model}/versions", "modelVersions", "model")
        return [NgcVersion(str(r.get("versionId")), r.get("totalSizeInBytes"), str(r.get("status", ""))) for r in rows]

    def files(self, target: NgcTarget) -> list[NgcFile]:
        rows = self._pages(target, f"/v2/models/{target.model}/versions/{target.version}/files", "modelFiles",
                           "version")
        return [NgcFile(str(r["path"]), r.get("sizeInBytes"), _hex(r.get("sha256_base64"))) for r in rows]

    def file_request(self, target: NgcTarget, path: str) -> Request:
        team = f"/team/{target.team}" if target.team else ""
        query = urllib.parse.urlencode({"redirect": "true", "path": path})
        url = f"{self.base}/v2/models/org/{target.org}{team}/{target.name}/{target.version}/files?{query}"
        return Request(url, self._headers())

    def refused(self, target: NgcTarget, err: HttpStatus, level: str) -> DownloadError:
        """The one line that says what an NGC status means and what to do about it."""
        if err.status in (401, 403):
            if _api_key():
                return DownloadError(f"{target}: NGC refused the key in NGC_API_KEY (HTTP {err.status}); it needs "
                                     f"access to the {target.org} org")
            return DownloadError(f"{target}: NGC refused access (HTTP {err.status}): a private model; set "
                                 "NGC_API_KEY to a key of its org (used only for such models)")
        if err.status == 404:
            return self._not_found(target, level)
        if err.status == 412:
            return DownloadError(f"{target}: the model's licence must be accepted first (HTTP 412); accept it at "
                                 f"{target.catalog_page} and run the command again")
        if err.status == 451:
            return DownloadError(f"{target}: NGC does not serve this region (HTTP 451); set TAOKIT_NGC_URL to a "
                                 "mirror, or copy the taokit cache (TAOKIT_HOME) from a machine that has the model")
        return DownloadError(f"{target}: NGC answered HTTP {err.status} ({err.url})")

    def _not_found(self, target: NgcTarget, level: str) -> DownloadError:
        if level == "model":
            return DownloadError(f"{target.model}: no such model on NGC; check the name at {target.catalog_page}")
        try:
            names = [v.version for v in self.versions(target)]
        except DownloadError as err:
            return err  # the model itself is missing, or refused
        listed = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
        return DownloadError(f"{target}: no version {target.version!r}" + (f"; versions: {listed}" if names else ""))

    def _pages(self, target: NgcTarget, path: str, key: str, level: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page, pages = 0, 1
        while page < pages:
            data = self._get(target, f"{path}?page-size=1000&page-number={page}", level)
            rows += data.get(key) or []
            pages = int((data.get("paginationInfo") or {}).get("totalPages") or 1)
            page += 1
        return rows

    def _get(self, target: NgcTarget, path: str, level: str) -> Any:
        try:
            try:
                return get_json(Request(self.base + path, self._headers()))
            except HttpStatus as err:
                if err.status not in (401, 403) or not _api_key() or self._token:
                    raise
                self._token = self._login(target)
                return get_json(Request(self.base + path, self._headers()))
        except HttpStatus as err:
            raise self.refused(target, err, level) from None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def _login(self, target: NgcTarget) -> str:
        basic = base64.b64encode(f"$oauthtoken:{_api_key()}".encode()).decode()
        query = urllib.parse.urlencode({"service": "ngc", "scope": f"group/ngc:{target.org}"})
        try:
            data = get_json(Request(f"{self.auth_url}?{query}", {"Authorization": f"Basic {basic}"}))
        except HttpStatus as err:
            raise DownloadError(f"{target}: NGC did not accept NGC_API_KEY (HTTP {err.status}); check the key") from None
        return str(data["token"])


def _api_key() -> str:
    return os.environ.get("NGC_API_KEY") or os.environ.get("NGC_CLI_API_KEY") or ""


def _hex(b64: object) -> str | None:
    if not isinstance(b64, str) or not b64:
        return None
    try:
        return base64.b64decode(b64).hex()
    except ValueError:
        return None
