"""Evidence throughput on this machine: captures per second against a local server, and bundle verify
speed (MB/s) against plain SHA-256 of the same bytes in the same process (the ratio is the overhead of
the hostile-input checks).

    .venv/bin/python bench/evidence.py [--pages 40]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image
from tests.evidence_helpers import local_config, make_case
from tests.local_servers import Page, dns_server, web_server

from vigil.boot import open_store
from vigil.config import Config
from vigil.evidence.bundle import export_bundle, verify_bundle
from vigil.evidence.capture import capture_url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, web_server() as web, dns_server() as dns:
        config = local_config(Config.load(Path(tmp)), dns.address)
        store = open_store(config)
        dns.zone["bench.test"] = {"A": ["127.0.0.1"]}
        para = b"<p>" + b"placeholder words for the benchmark " * 40 + b"</p>"
        for n in range(args.pages):
            img = io.BytesIO()
            Image.frombytes("RGB", (400, 300), os.urandom(400 * 300 * 3)).save(img, "PNG")  # ~360 kB
            web.pages[f"/img/{n}.png"] = Page(200, img.getvalue(), {"Content-Type": "image/png"})
            web.pages[f"/p/{n}"] = Page(
                200,
                b"<html><body><article>"
                + para * 5
                + f'<img src="/img/{n}.png">'.encode()
                + b"</article></body></html>",
            )
        case_id = make_case(store, web.url("/p/0", host="bench.test"))
        start = time.perf_counter()
        for n in range(args.pages):
            capture_url(store, config, web.url(f"/p/{n}", host="bench.test"), case_id=case_id)
        capture_s = time.perf_counter() - start
        out = Path(tmp) / "bundle.zip"
        start = time.perf_counter()
        export_bundle(store, config, case_id, out)
        export_s = time.perf_counter() - start
        size = out.stat().st_size
        start = time.perf_counter()
        report = verify_bundle(out, config)
        verify_s = time.perf_counter() - start
        start = time.perf_counter()
        hashlib.sha256(out.read_bytes()).hexdigest()
        plain_s = time.perf_counter() - start
        store.close()
    assert report.ok
    print(
        f"captures: {args.pages} pages (each with one image) in {capture_s:.2f} s"
        f" = {args.pages / capture_s:.1f} pages/s"
    )
    print(f"export: {report.files} files, {size / 1e6:.2f} MB in {export_s:.2f} s")
    print(
        f"verify: {size / 1e6 / verify_s:.1f} MB/s; "
        f"plain SHA-256 of the zip: {size / 1e6 / plain_s:.1f} MB/s "
        f"(verify takes {verify_s / plain_s:.1f}x a bare hash)"
    )


if __name__ == "__main__":
    main()
