"""S3 for the lake: SeaweedFS (master, volume server, filer and S3 gateway in one `weed server` process), built from the
tiny Go module in ./weed, with one identity whose keys come from the settings; and just enough of an S3 client
(SigV4-signed, path-style requests) for its health check, the lake's bucket and the tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree

import httpx

from infra.stack.service import Launch, StackPaths, run_quiet

MODULE_DIR = Path(__file__).resolve().parent / "weed"
WEED_PACKAGE = "github.com/seaweedfs/seaweedfs/weed"  # the `weed` main; its module is pinned in ./weed/go.mod
MODULE_VERSION = "v0.0.0-20261109003541-7506e5f91cd6"  # SeaweedFS 4.53
REGION = "us-east-1"  # in every signature's scope; S3A is given the same (`fs.s3a.endpoint.region`)
_S3_NAMESPACE = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def _go() -> str:
    # The launcher may run without /usr/local/go/bin on PATH.
    return shutil.which("go") or "/usr/local/go/bin/go"


@dataclass(frozen=True)
class S3Client:
    """Signed (AWS Signature Version 4) path-style requests to an S3 endpoint such as `http://127.0.0.1:8333`."""

    endpoint: str
    access_key: str
    secret_key: str
    timeout: float = 5.0

    def request(self, method: str, path: str = "/", query: dict[str, str] | None = None) -> httpx.Response:
        now = datetime.now(UTC)
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        canonical_query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted((query or {}).items()))
        empty_body = hashlib.sha256(b"").hexdigest()
        headers = {"host": httpx.URL(self.endpoint).netloc.decode(), "x-amz-content-sha256": empty_body,
                   "x-amz-date": stamp}
        signed = ";".join(sorted(headers))
        canonical = "\n".join([method, quote(path, safe="/-_.~"), canonical_query,
                               *(f"{name}:{headers[name]}" for name in sorted(headers)), "", signed, empty_body])
        scope = f"{day}/{REGION}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret_key).encode()
        for part in (day, REGION, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
                                    f"SignedHeaders={signed}, Signature={signature}")
        url = f"{self.endpoint.rstrip('/')}{quote(path, safe='/-_.~')}" + (f"?{canonical_query}" if query else "")
        return httpx.request(method, url, headers=headers, timeout=self.timeout)

    def create_bucket(self, bucket: str) -> bool:
        """True when made now, False when it was already there."""
        response = self.request("PUT", f"/{bucket}")
        if response.status_code == 409 and b"BucketAlreadyOwnedByYou" in response.content:
            return False
        response.raise_for_status()
        return True

    def keys(self, bucket: str, prefix: str) -> list[str]:
        """Every object key under the prefix (ListObjectsV2, page by page)."""
        keys: list[str] = []
        query = {"list-type": "2", "prefix": prefix}
        while True:
            response = self.request("GET", f"/{bucket}", query)
            response.raise_for_status()
            page = ElementTree.fromstring(response.content)
            keys += [key.text or "" for key in page.iter(f"{_S3_NAMESPACE}Key")]
            token = page.findtext(f"{_S3_NAMESPACE}NextContinuationToken")
            if not token:
                return keys
            query = {**query, "continuation-token": token}


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


@dataclass
class SeaweedFS:
    port: int = 8333  # the S3 gateway; master, volume server and filer listen on the ports below (+10000 for gRPC)
    access_key: str = "shop"
    secret_key: str = ""
    master_port: int = 9333
    volume_port: int = 8080
    filer_port: int = 8888
    name: str = "seaweedfs"
    version: str = f"SeaweedFS 4.53 ({MODULE_VERSION[-12:]})"
    daemon: bool = True

    def _binary(self, paths: StackPaths) -> Path:
        return paths.artifacts(self.name) / "weed"

    def install(self, paths: StackPaths) -> None:
        if not self.secret_key:
            raise RuntimeError("SHOP_S3_SECRET_KEY is not set: ./shop writes a development one into .env")
        binary = self._binary(paths)
        marker = binary.with_name("VERSION")
        if binary.exists() and marker.exists() and marker.read_text().strip() == self.version:
            return
        binary.parent.mkdir(parents=True, exist_ok=True)
        # `go install <pkg>@<version>` refuses SeaweedFS (its go.mod has a replace directive), so ./weed requires the
        # module as a `tool` and repeats that replace; CGO off: the default build needs no C library.
        env = {**os.environ, "GOFLAGS": "-mod=readonly -buildvcs=false", "CGO_ENABLED": "0"}
        run_quiet([_go(), "build", "-trimpath", "-o", str(binary), WEED_PACKAGE],
                  paths.log(self.name), cwd=MODULE_DIR, env=env)
        marker.write_text(self.version + "\n")

    def prepare(self, paths: StackPaths) -> None:
        """The data folder and the S3 identities file (rewritten each start, so a changed secret takes effect)."""
        data = paths.data(self.name)
        data.mkdir(parents=True, exist_ok=True)
        identity = {"name": self.access_key, "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}]}
        config = data / "s3-identities.json"
        config.touch(mode=0o600)
        config.write_text(json.dumps({"identities": [identity]}, indent=2))

    def launch(self, paths: StackPaths) -> Launch:
        data = paths.data(self.name)
        return Launch(
            argv=[
                str(self._binary(paths)), "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-master.port={self.master_port}", "-master.telemetry=false",
                # Volumes of 128 MB grown as needed (none preallocated), as many as the disk holds.
                "-master.volumeSizeLimitMB=128", "-volume.max=0",
                f"-volume.port={self.volume_port}", "-volume.preStopSeconds=1",
                "-filer", f"-filer.port={self.filer_port}", f"-filer.localSocket={data / 'filer.sock'}",
                "-s3", f"-s3.port={self.port}", f"-s3.config={data / 's3-identities.json'}",
                f"-s3.localSocket={data / 's3.sock'}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            ],
            # A soft heap limit: Go's collector keeps the process near it instead of doubling its heap between cycles.
            env={"GOMEMLIMIT": "256MiB"},
            cwd=data,
        )

    def healthy(self) -> bool:
        """ListBuckets with the stack's keys: the gateway is up, its filer answers and the identity is loaded."""
        client = S3Client(f"http://127.0.0.1:{self.port}", self.access_key, self.secret_key, timeout=3.0)
        try:
            return client.request("GET", "/").status_code == 200
        except httpx.HTTPError:
            return False
