"""The AWS Pricing API's ``GetProducts`` for EC2, served locally (moto 5 has no ``pricing``).

An HTTP server on 127.0.0.1 that speaks the Pricing API's protocol as botocore's model
(``pricing/2017-10-15``) describes it: JSON 1.1, ``POST /`` with
``X-Amz-Target: AWSPriceListService.GetProducts``, answering ``FormatVersion``,
``PriceList`` (each product a JSON string) and ``NextToken``, and errors as
``{"__type": code, "message": ...}`` with HTTP 400. A boto3 ``pricing`` client pointed at it
(``endpoint_url``) is the daemon's real client; the request is not checked for a signature.

The products are built from the shipped on-demand list (``data/on-demand-g5.json``): one
Linux, shared-tenancy, no-software, ``capacitystatus`` Used, ``RunInstances`` product per
region and type, in the Price List's own shape (``product.attributes``,
``terms.OnDemand.<sku>.JRTCKXETXF.priceDimensions.<rate>`` with unit ``Hrs`` and
``pricePerUnit.USD``), in force since ``EFFECTIVE_DATE``. ``TERM_MATCH`` and ``EQUALS``
filters match an attribute's value, ignoring case, as AWS does. ``refuse(code)`` makes every
later call fail with that code (``AccessDeniedException``, ``ThrottlingException``), for the
daemon's bad-input paths.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from analytics.demo import SHIPPED_ON_DEMAND

__all__ = ["EFFECTIVE_DATE", "LocalPricing", "local_pricing_api", "price_list_items"]

EFFECTIVE_DATE = "2025-01-01T00:00:00Z"
_TARGET = "AWSPriceListService.GetProducts"
_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# The Price List names a region by its location too; only the regions the shipped list has.
_LOCATIONS = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-2": "US West (Oregon)",
}
_ON_DEMAND = "JRTCKXETXF"  # AWS's offer term code of on-demand
_HOURLY = "6YS6EN2CT7"  # and of its hourly rate


def _sku(region: str, instance_type: str) -> str:
    digest = hashlib.sha256(f"{region}/{instance_type}".encode()).hexdigest().upper()
    return digest[:16]


def _product(region: str, instance_type: str, price: float) -> dict[str, Any]:
    sku = _sku(region, instance_type)
    term, rate = f"{sku}.{_ON_DEMAND}", f"{sku}.{_ON_DEMAND}.{_HOURLY}"
    return {
        "product": {
            "productFamily": "Compute Instance",
            "attributes": {
                "servicecode": "AmazonEC2",
                "instanceType": instance_type,
                "regionCode": region,
                "location": _LOCATIONS.get(region, region),
                "locationType": "AWS Region",
                "operatingSystem": "Linux",
                "tenancy": "Shared",
                "preInstalledSw": "NA",
                "capacitystatus": "Used",
                "licenseModel": "No License required",
                "operation": "RunInstances",
            },
            "sku": sku,
        },
        "serviceCode": "AmazonEC2",
        "terms": {
            "OnDemand": {
                term: {
                    "priceDimensions": {
                        rate: {
                            "unit": "Hrs",
                            "endRange": "Inf",
                            "description": f"${price} per On Demand Linux {instance_type} "
                            "Instance Hour",
                            "appliesTo": [],
                            "rateCode": rate,
                            "beginRange": "0",
                            "pricePerUnit": {"USD": f"{price:.10f}"},
                        }
                    },
                    "sku": sku,
                    "effectiveDate": EFFECTIVE_DATE,
                    "offerTermCode": _ON_DEMAND,
                    "termAttributes": {},
                }
            }
        },
        "version": "20250101000000",
        "publicationDate": EFFECTIVE_DATE,
    }


def price_list_items(path: Path = SHIPPED_ON_DEMAND) -> list[dict[str, Any]]:
    """The products of the shipped on-demand list (Linux rows), decoded."""
    rows = json.loads(path.read_text())
    return [
        _product(str(r["region"]), str(r["instance_type"]), float(r["price"]))
        for r in rows
        if r.get("operating_system", "Linux") == "Linux"
    ]


def _matches(product: Mapping[str, Any], filters: Sequence[Mapping[str, Any]]) -> bool:
    attributes = {k.lower(): str(v).lower() for k, v in product["product"]["attributes"].items()}
    for f in filters:
        name, value = str(f.get("Field", "")).lower(), str(f.get("Value", "")).lower()
        if name == "servicecode":
            continue  # the request's ServiceCode already says
        if attributes.get(name) != value:
            return False
    return True


class _ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class LocalPricing:
    """The running server: where it listens, its products, and a switch to refuse calls."""

    endpoint_url: str
    products: list[dict[str, Any]]
    refusing: str | None = None
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse(self, code: str | None) -> None:
        """Fail every later call with ``code`` (None: answer again)."""
        with self._lock:
            self.refusing = code

    def client(self, region: str = "us-east-1", **config: Any) -> Any:
        """A boto3 ``pricing`` client that reaches this server."""
        return boto3.client(
            "pricing",
            endpoint_url=self.endpoint_url,
            region_name=region,
            **_CREDENTIALS,
            **config,
        )

    def answer(self, target: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            refusing = self.refusing
        if refusing is not None:
            raise _ApiError(refusing, f"{refusing} (the local Pricing API was told to refuse)")
        if target != _TARGET:
            raise _ApiError("InvalidParameterException", f"the local Pricing API has no {target}")
        if body.get("ServiceCode") != "AmazonEC2":
            raise _ApiError("NotFoundException", "the local Pricing API prices AmazonEC2 only")
        filters = body.get("Filters") or []
        for f in filters:
            if f.get("Type") not in ("TERM_MATCH", "EQUALS"):
                raise _ApiError(
                    "InvalidParameterException", f"filter type {f.get('Type')!r} is not served"
                )
        found = [p for p in self.products if _matches(p, filters)]
        start = int(body.get("NextToken") or 0)
        size = int(body.get("MaxResults") or 100)
        page = found[start : start + size]
        out: dict[str, Any] = {
            "FormatVersion": "aws_v1",
            "PriceList": [json.dumps(p) for p in page],
        }
        if start + size < len(found):
            out["NextToken"] = str(start + size)
        return out


def _handler(pricing: LocalPricing) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                answer, status = pricing.answer(self.headers.get("X-Amz-Target", ""), body), 200
            except _ApiError as exc:
                answer, status = {"__type": exc.code, "message": str(exc)}, 400
            except ValueError as exc:
                answer, status = {"__type": "SerializationException", "message": str(exc)}, 400
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the demo's log is the daemon's, not every request's

    return Handler


@contextlib.contextmanager
def local_pricing_api(
    products: list[dict[str, Any]] | None = None,
) -> Iterator[LocalPricing]:
    """Serve ``products`` (default: the shipped list's) on a free port until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    host, port = server.server_address[:2]
    pricing = LocalPricing(
        f"http://{host!s}:{port}", products if products is not None else price_list_items()
    )
    server.RequestHandlerClass = _handler(pricing)
    thread = threading.Thread(target=server.serve_forever, name="local-pricing", daemon=True)
    thread.start()
    try:
        yield pricing
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
