"""The landing zone, declared: one short spec per source entity of the contract.

The loader reads these declarations; adding an entity or a column is a change here only.
Field types: text, int, decimal, date, timestamp, bool, json.  ``required`` fields that are
blank or do not parse send the row to quarantine; optional fields that do not parse load as
null (contract: "an optional value that does not parse is loaded as null; the row is kept").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "text"
    required: bool = False
    enum: tuple[str, ...] | None = None
    non_negative: bool = False  # e.g. prices: a negative value is a bad row
    items: tuple[Field, ...] = ()  # for json arrays of objects (order lines)
    may_be_absent: bool = False  # a column the contract calls optional: a file without it still loads


@dataclass(frozen=True)
class EntitySpec:
    source: str
    entity: str
    fmt: str  # "csv" or "jsonl"
    fields: tuple[Field, ...]
    delimiter: str = ","
    decimal_comma: bool = False
    currency_field: str | None = None  # rows in another currency than EUR are quarantined

    @property
    def name(self) -> str:
        return f"{self.source}__{self.entity}"

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    @property
    def ext(self) -> str:
        return self.fmt

    @property
    def column_names(self) -> list[str]:
        return [f.name for f in self.fields]


def _f(name: str, type: str = "text", **kw) -> Field:
    return Field(name, type, **kw)


def _req(name: str, type: str = "text", **kw) -> Field:
    return Field(name, type, required=True, **kw)


def _enum(name: str, *values: str, required: bool = False) -> Field:
    return Field(name, "text", required=required, enum=values)


_PERSON = (_f("first_name"), _f("last_name"))
_ADDRESS = (_f("address_line"), _f("postcode"), _f("city"), _f("country"))

ENTITIES: tuple[EntitySpec, ...] = (
    EntitySpec("crm", "customers", "csv", (
        _req("crm_id"), _f("loyalty_card_id"), _f("civility"), *_PERSON, _f("birth_date", "date"),
        _f("email"), _f("phone"), *_ADDRESS, _f("household_size", "int"), _f("children_count", "int"),
        _f("occupation"), _f("income_band"), _f("acquisition_channel"), _f("created_at", "timestamp"),
        _req("updated_at", "timestamp"), _f("consent_email", "bool"), _f("consent_sms", "bool"),
        _f("consent_post", "bool"),
    )),
    EntitySpec("ecommerce", "accounts", "csv", (
        _req("account_id"), _f("email"), *_PERSON, _f("phone"), _f("birth_date", "date"), *_ADDRESS,
        _f("loyalty_card_id"), _f("created_at", "timestamp"), _req("updated_at", "timestamp"),
    )),
    EntitySpec("ecommerce", "orders", "jsonl", (
        _req("order_id"), _f("account_id"), _f("guest_email"), _req("ordered_at", "timestamp"),
        _enum("status", "placed", "shipped", "delivered", "cancelled", "returned", required=True),
        _f("currency"), _f("shipping", "json"),
        _req("lines", "json", items=(
            _req("sku"), _req("quantity", "int"), _req("unit_price", "decimal", non_negative=True),
            _f("discount", "decimal"),
        )),
    ), currency_field="currency"),
    EntitySpec("pos", "receipts", "csv", (
        _req("receipt_id"), _f("store_id"), _req("purchased_at", "timestamp"), _f("loyalty_card_id"),
        _req("line_no", "int"), _req("sku"), _req("quantity", "int"),
        _req("unit_price", "decimal", non_negative=True), _f("discount_amount", "decimal"),
        _f("payment_method"),
    ), delimiter=";", decimal_comma=True),
    EntitySpec("callcenter", "calls", "csv", (
        _req("call_id"), _req("called_at", "timestamp"), _f("caller_phone"), _f("crm_id"),
        _enum("reason", "order_status", "complaint", "information", "quote_request", "cancellation"),
        _enum("outcome", "resolved", "escalated", "sale"), _f("order_id"),
        _f("duration_s", "int", non_negative=True),
    )),
    EntitySpec("esp", "campaigns", "csv", (
        _req("campaign_id"), _f("name"), _enum("channel", "email", "sms"),
        _enum("objective", "promotion", "newsletter", "reactivation", "welcome", "loyalty"),
        _req("sent_at", "timestamp"), _f("offer_code"), _f("holdout_share", "decimal", may_be_absent=True),
    )),
    EntitySpec("esp", "events", "csv", (
        _req("event_id"), _f("campaign_id"), _f("recipient"),
        _enum("event_type", "sent", "delivered", "open", "click", "bounce", "unsubscribe", "complaint",
              "held_out", required=True),
        _req("occurred_at", "timestamp"), _f("url"),
    )),
    EntitySpec("web", "events", "jsonl", (
        _req("event_id"), _f("anonymous_id"), _f("account_id"), _req("occurred_at", "timestamp"),
        _enum("event_type", "page_view", "key_page_view", "search", "add_to_cart", "quote_started",
              "login", "newsletter_signup", required=True),
        _f("page_path"), _f("utm_source"), _f("utm_medium"), _f("utm_campaign"), _f("device"),
    )),
    EntitySpec("forms", "signups", "csv", (
        _req("signup_id"), _enum("form_type", "newsletter", "contest", "survey"),
        _req("submitted_at", "timestamp"), _f("email"), *_PERSON, _f("postcode"), _f("opt_in", "bool"),
        _f("interests"), _f("nps", "int"),
    )),
    EntitySpec("partners", "email_appends", "csv", (
        _req("crm_id"), _f("appended_email"), _f("opt_in", "bool"), _req("appended_at", "timestamp"),
    )),
    EntitySpec("reference", "products", "csv", (
        _req("sku"), _f("name"), _f("category"), _f("brand"), _f("unit_cost", "decimal", non_negative=True),
    )),
    EntitySpec("reference", "stores", "csv", (
        _req("store_id"), _f("name"), _f("city"), _f("postcode"), _f("region"), _f("opened_at", "date"),
    )),
    EntitySpec("privacy", "requests", "csv", (
        _req("request_id"), _req("requested_at", "timestamp"),
        _enum("request_type", "erasure", "objection", "access", required=True), _f("email"), _f("phone"),
        _f("crm_id"),
    )),
)

SOURCES: tuple[str, ...] = tuple(dict.fromkeys(e.source for e in ENTITIES))


def entities_of(source: str) -> tuple[EntitySpec, ...]:
    return tuple(e for e in ENTITIES if e.source == source)
