"""Writes the request parameters Stripe publishes for the calls the Stripe fake serves, as JSON.

The definitions come from stripe-python's typed parameters (generated from Stripe's OpenAPI
spec) of the release pinned to paybridge's API version, so the fake refuses a parameter, a
value or a nesting that Stripe would refuse. Usage: dump.py OUT.json (stripe importable).
"""

import decimal
import json
import sys
import types
import typing

import stripe
import typing_extensions
from stripe._request_options import RequestOptions

# The API version paybridge pins (DEFAULT_API_VERSION); stripe-python 15.6.2 is generated for it.
API_VERSION = "2026-08-26.dahlia"

OPERATIONS = {
    "POST /v1/payment_intents": "stripe.params._payment_intent_create_params.PaymentIntentCreateParams",
    "GET /v1/payment_intents": "stripe.params._payment_intent_list_params.PaymentIntentListParams",
    "GET /v1/payment_intents/{id}": "stripe.params._payment_intent_retrieve_params.PaymentIntentRetrieveParams",
    "POST /v1/payment_intents/{id}": "stripe.params._payment_intent_modify_params.PaymentIntentModifyParams",
    "POST /v1/payment_intents/{id}/cancel": "stripe.params._payment_intent_cancel_params.PaymentIntentCancelParams",
    "POST /v1/checkout/sessions": "stripe.params.checkout._session_create_params.SessionCreateParams",
    "GET /v1/checkout/sessions": "stripe.params.checkout._session_list_params.SessionListParams",
    "GET /v1/checkout/sessions/{id}": "stripe.params.checkout._session_retrieve_params.SessionRetrieveParams",
    "POST /v1/checkout/sessions/{id}/expire": "stripe.params.checkout._session_expire_params.SessionExpireParams",
    "POST /v1/refunds": "stripe.params._refund_create_params.RefundCreateParams",
    "GET /v1/charges/{id}": "stripe.params._charge_retrieve_params.ChargeRetrieveParams",
    "GET /v1/balance": "stripe.params._balance_retrieve_params.BalanceRetrieveParams",
    "GET /v1/balance_transactions": "stripe.params._balance_transaction_list_params.BalanceTransactionListParams",
    "GET /v1/balance_transactions/{id}": "stripe.params._balance_transaction_retrieve_params.BalanceTransactionRetrieveParams",
    "GET /v1/refunds/{id}": "stripe.params._refund_retrieve_params.RefundRetrieveParams",
    "GET /v1/disputes/{id}": "stripe.params._dispute_retrieve_params.DisputeRetrieveParams",
    "GET /v1/payouts/{id}": "stripe.params._payout_retrieve_params.PayoutRetrieveParams",
    "GET /v1/refunds": "stripe.params._refund_list_params.RefundListParams",
    "GET /v1/disputes": "stripe.params._dispute_list_params.DisputeListParams",
    "GET /v1/payouts": "stripe.params._payout_list_params.PayoutListParams",
    "POST /v1/customers": "stripe.params._customer_create_params.CustomerCreateParams",
    "POST /v1/customers/{id}": "stripe.params._customer_modify_params.CustomerModifyParams",
    "GET /v1/customers/{id}": "stripe.params._customer_retrieve_params.CustomerRetrieveParams",
    "GET /v1/customers": "stripe.params._customer_list_params.CustomerListParams",
    "GET /v1/invoices/{id}": "stripe.params._invoice_retrieve_params.InvoiceRetrieveParams",
    "GET /v1/webhook_endpoints": "stripe.params._webhook_endpoint_list_params.WebhookEndpointListParams",
    "POST /v1/webhook_endpoints": "stripe.params._webhook_endpoint_create_params.WebhookEndpointCreateParams",
    "GET /v1/webhook_endpoints/{id}": "stripe.params._webhook_endpoint_retrieve_params.WebhookEndpointRetrieveParams",
    "POST /v1/webhook_endpoints/{id}": "stripe.params._webhook_endpoint_modify_params.WebhookEndpointModifyParams",
}

REQUEST_OPTIONS = set(RequestOptions.__annotations__)
MAX_DEPTH = 12


def load(path):
    module_name, _, name = path.rpartition(".")
    __import__(module_name)
    return getattr(sys.modules[module_name], name)


def resolve(tp, module):
    if isinstance(tp, str):
        return eval(tp, vars(module))  # the generated annotations name module-level types
    if isinstance(tp, typing.ForwardRef):
        return eval(tp.__forward_arg__, vars(module))
    return tp


def is_typeddict(tp):
    return isinstance(tp, type) and typing_extensions.is_typeddict(tp)


def schema(tp, module, depth):
    tp = resolve(tp, module)
    if depth > MAX_DEPTH:
        raise SystemExit(f"parameters nest deeper than {MAX_DEPTH}: {tp}")
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing_extensions.NotRequired, typing_extensions.Required):
        return schema(args[0], module, depth)
    if origin in (typing.Union, types.UnionType):
        return {"t": "union", "of": [schema(a, module, depth) for a in args]}
    if origin in (typing.Literal, typing_extensions.Literal):
        return {"t": "enum", "values": [str(a).lower() if isinstance(a, bool) else str(a) for a in args]}
    if origin in (list, typing.List):
        return {"t": "list", "item": schema(args[0], module, depth + 1)}
    if origin in (dict, typing.Dict):
        return {"t": "map", "value": schema(args[1], module, depth + 1)}
    if origin is not None and getattr(origin, "__name__", "") == "UntypedStripeObject":
        return {"t": "map", "value": schema(args[0], module, depth + 1)}
    if is_typeddict(tp):
        return object_schema(tp, depth + 1)
    if tp is str:
        return {"t": "str"}
    if tp is bool:
        return {"t": "bool"}
    if tp is int:
        return {"t": "int"}
    if tp is float or tp is decimal.Decimal:
        return {"t": "decimal"}
    if tp is typing.Any or tp is object:
        return {"t": "any"}
    raise SystemExit(f"unsupported parameter type {tp!r}")


def object_schema(cls, depth=0):
    module = sys.modules[cls.__module__]
    fields = {}
    required = []
    for name, tp in cls.__annotations__.items():
        if depth == 0 and name in REQUEST_OPTIONS:
            continue  # the client's options (api_key, idempotency_key, …), not parameters
        raw = tp
        fields[name] = schema(tp, module, depth)
        if name in getattr(cls, "__required_keys__", ()) and not is_not_required(raw, module):
            required.append(name)
    return {"t": "object", "fields": fields, "required": sorted(required)}


def is_not_required(tp, module):
    return typing.get_origin(resolve(tp, module)) is typing_extensions.NotRequired


def main():
    out = sys.argv[1]
    if stripe.api_version != API_VERSION:
        raise SystemExit(
            f"stripe-python {stripe.VERSION} is generated for {stripe.api_version}, not {API_VERSION}"
        )
    operations = {op: object_schema(load(path)) for op, path in OPERATIONS.items()}
    document = {
        "api_version": API_VERSION,
        "source": f"stripe-python {stripe.VERSION}",
        "operations": operations,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
