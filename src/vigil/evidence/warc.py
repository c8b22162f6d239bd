"""Write a capture as a WARC/1.1 file (ISO 28500): warcinfo, request and response records for every hop
(the redirect chain included) and every media file, the DNS answers as resource records, and the
extracted main text as a conversion record."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from vigil.net.dns import DnsAnswers
from vigil.net.hops import Hop


def _payload(data: bytes) -> tuple[io.BytesIO, int]:
    return io.BytesIO(data), len(data)


def _warc_date(hop: Hop) -> str:
    return hop.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write_hop(writer: WARCWriter, hop: Hop) -> None:
    parts = urlsplit(hop.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    date = _warc_date(hop)
    req_headers = StatusAndHeaders(f"{hop.method} {path} HTTP/1.1", hop.request_headers, is_http_request=True)
    request = writer.create_warc_record(
        hop.url,
        "request",
        payload=io.BytesIO(b""),
        length=0,
        http_headers=req_headers,
        warc_headers_dict={"WARC-Date": date, "WARC-IP-Address": hop.ip},
    )
    protocol = "HTTP/1.1" if hop.http_version.upper() in ("", "HTTP/1.1") else hop.http_version.upper()
    resp_headers = StatusAndHeaders(
        f"{hop.status} {hop.reason}".strip(), hop.response_headers, protocol=protocol
    )
    extra = {"WARC-Date": date, "WARC-IP-Address": hop.ip}
    if hop.truncated:
        extra["WARC-Truncated"] = "length"
    response = writer.create_warc_record(
        hop.url,
        "response",
        payload=io.BytesIO(hop.body),
        length=len(hop.body),
        http_headers=resp_headers,
        warc_headers_dict=extra,
    )
    request.rec_headers.add_header("WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID"))
    writer.write_record(request)
    writer.write_record(response)


def build_warc(
    filename: str,
    info: dict[str, Any],
    hops: list[Hop],
    media_hops: list[Hop],
    dns: list[DnsAnswers],
    main_text: str,
) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
    writer.write_record(writer.create_warcinfo_record(filename, info))
    for answers in dns:
        writer.write_record(
            writer.create_warc_record(
                f"dns:{answers.host}",
                "resource",
                *_payload(json.dumps(answers.to_dict(), sort_keys=True).encode()),
                warc_content_type="application/json",
                warc_headers_dict={"WARC-Date": answers.at.replace("+00:00", "Z")},
            )
        )
    for hop in hops:
        _write_hop(writer, hop)
    if hops:
        chain = [{"url": h.url, "status": h.status, "location": h.header("location")} for h in hops]
        writer.write_record(
            writer.create_warc_record(
                hops[0].url,
                "metadata",
                *_payload(json.dumps({"redirect_chain": chain}).encode()),
                warc_content_type="application/json",
            )
        )
        writer.write_record(
            writer.create_warc_record(
                hops[-1].url,
                "conversion",
                *_payload(main_text.encode("utf-8")),
                warc_content_type="text/plain; charset=utf-8",
            )
        )
    for hop in media_hops:
        _write_hop(writer, hop)
    return out.getvalue()
