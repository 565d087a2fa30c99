#!/usr/bin/env python3
"""Seeds the fuzz corpora (fuzz/corpus/<target>/) from the sample events and Stripe fixtures.

Usage: infra/fuzz-seed.py [repository root]

Reads events/*.json (API Gateway requests: their bodies, base64 ones decoded, and signature
headers; SQS events: the queue envelopes and the event payloads inside them) and
tests/fixtures/stripe/*.json (each object also wrapped in an event, as a webhook delivers it),
the Xperience by Kentico package's order event test vector, and adds a few hand-written inputs per target. Seeds are named seed-<sha1>, so rerunning adds
nothing twice and keeps whatever the fuzzer found meanwhile.
"""

import base64
import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
CORPUS = ROOT / "fuzz" / "corpus"
TARGETS = ["signature_header", "stripe_event", "kentico_order_x13", "kentico_order_xbyk", "minor_units", "kentico_response"]
seeds = {target: set() for target in TARGETS}


def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    seeds[target].add(data)


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def event_body(text):
    """Routes one event body to the targets that read it."""
    add("stripe_event", text)
    try:
        event = json.loads(text)
    except ValueError:
        return
    if not isinstance(event, dict):
        return
    kind = str(event.get("type", ""))
    obj = (event.get("data") or {}).get("object")
    if kind.startswith("ecommerce.") and event.get("platform") == "xbyk":
        add("kentico_order_xbyk", text)
        if isinstance(obj, dict):
            add("kentico_order_xbyk", compact(obj))
            without = {k: v for k, v in obj.items() if k != "OrderCurrencyCode"}
            add("kentico_order_xbyk", compact(without))
    elif kind.startswith("ecommerce."):
        add("kentico_order_x13", text)
        if isinstance(obj, dict):
            add("kentico_order_x13", compact(obj))
            type_name = "ecommerce_customer" if kind.startswith("ecommerce.customer") else "ecommerce_order"
            add("kentico_response", compact({type_name: [obj]}))
            add("kentico_response", b"\xef\xbb\xbf" + compact({type_name + "s": [{type_name: [obj]}, {"TotalRecords": [{"TotalRecords": "1"}]}]}).encode())
            code = obj.get("OrderCurrencyCode")
            for column in ("OrderGrandTotal", "OrderTotalPrice", "OrderTotalTax", "OrderTotalShipping"):
                if code and column in obj:
                    add("minor_units", f"{code}|{obj[column]}")


for path in sorted((ROOT / "events").glob("*.json")):
    sample = json.loads(path.read_text())
    if "body" in sample:  # an API Gateway request
        body = sample["body"]
        text = base64.b64decode(body).decode() if sample.get("isBase64Encoded") else body
        event_body(text)
        for name, value in (sample.get("headers") or {}).items():
            if name.lower() in ("stripe-signature", "x-kentico-signature"):
                add("signature_header", value)
    for record in sample.get("Records", []):  # an SQS event: queue envelopes
        add("stripe_event", record["body"])
        envelope = json.loads(record["body"])
        if "payload" in envelope:
            event_body(compact(envelope["payload"]))
    if "Records" not in sample and "body" not in sample:
        add("stripe_event", compact(sample))

# The Xperience by Kentico package's own order event (its tests assert it byte for byte).
event_body((ROOT / "infra" / "kentico" / "xbyk" / "order-event-test-vector.json").read_text().rstrip("\n"))

for path in sorted((ROOT / "tests" / "fixtures" / "stripe").glob("*.json")):
    text = path.read_text()
    obj = json.loads(text)
    if obj.get("object") == "event":
        event_body(text)
        continue
    add("stripe_event", text)
    event_body(compact({
        "id": f"evt_seed_{path.stem}", "object": "event", "api_version": "2026-08-26.dahlia",
        "created": 1764417600, "livemode": False, "type": f"{obj.get('object', path.stem)}.updated",
        "data": {"object": obj, "previous_attributes": {"metadata": {}}},
    }))

for header in [
    "t=1700000000,v1=" + "ab" * 32,
    "t=1700000000,v1=" + "ab" * 32 + ",v0=" + "cd" * 32 + ",v1=" + "ef" * 32,
    " t=1700000000 , v1=" + "00" * 32 + " ",
    "t=-9223372036854775808,v1=" + "11" * 32,
    "t=9223372036854775807,v1=" + "11" * 32,
    "t=abc,v1=" + "ab" * 32, "t=1700000000", "v1=" + "ab" * 32, "t=1,t=2,v1=zz", "",
]:
    add("signature_header", header)

for amount in [
    "USD|129.90", "EUR|0.50", "EUR|0.49", "JPY|1500.5", "JPY|1501.5", "KWD|12.345", "BHD|12.355",
    "ISK|1500.50", "CLP|0.4", "HUF|175", "USD|999999.99", "USD|1000000.00", "usd| 12.5 ",
    "USD|1,234.50", "EUR|12,50", "US Dollar|5", "€|5", "UDS|5", "XXX|5", "USD|1e3", "USD|-5",
    "USD|79228162514264337593543950335", "USD|0.0000000000000000000000000001", "129.90",
]:
    add("minor_units", amount)

for body in [
    '{"ecommerce_orderstatuses":[{"ecommerce_orderstatus":[{"StatusID":"6","StatusName":"Paid",'
    '"StatusDisplayName":"Paid","StatusSiteID":"1","StatusEnabled":"True"},{"StatusID":7,'
    '"StatusName":"Payment Failed","StatusEnabled":false}]},{"TotalRecords":[{"TotalRecords":"2"}]}]}',
    '{"ecommerce_orderstatuses":[{"TotalRecords":[{"TotalRecords":"0"}]}]}',
    '[{"page":{"ecommerce_orderstatus":{"StatusID":6.0,"StatusName":"Paid"}}}]',
    '{"ecommerce_currency":[{"CurrencyID":1,"CurrencyCode":"USD"}]}',
    '{"cms_users":[]}',
    "<html><body>Login</body></html>",
    "Authorization: Basic cmVzdDpQYTU1d29yZA== Pa55w0rd",
]:
    add("kentico_response", body)

for target, datas in seeds.items():
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    for data in datas:
        (directory / f"seed-{hashlib.sha1(data).hexdigest()}").write_bytes(data)
    print(f"{target}: {len(datas)} seeds, {sum(1 for _ in directory.iterdir())} inputs in {directory.relative_to(ROOT)}")
