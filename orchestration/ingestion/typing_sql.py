"""SQL expressions that type a VARCHAR landing value and say why a row is bad.

Kept apart from the loader so the rules can be unit-tested on single values.
"""

from __future__ import annotations

from .specs import EntitySpec, Field

SQL_TYPES = {
    "text": "VARCHAR",
    "int": "BIGINT",
    "decimal": "DECIMAL(18,4)",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "bool": "BOOLEAN",
    "json": "JSON",
}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def blank_to_null(expr: str) -> str:
    return f"nullif(trim({expr}), '')"


def typed_expr(f: Field, value: str, decimal_comma: bool = False, blank: str | None = None) -> str:
    """Typed value of `value` (a VARCHAR expression); NULL when blank or unparseable. `blank`,
    when given, is an expression already holding `blank_to_null(value)` (trimmed once)."""
    v = blank or blank_to_null(value)
    if f.type == "text":
        return f"lower({v})" if f.enum else value
    if f.type == "int":
        return f"try_cast({v} AS BIGINT)"
    if f.type == "decimal":
        src = f"replace({v}, ',', '.')" if decimal_comma else v
        return f"try_cast({src} AS DECIMAL(18,4))"
    if f.type == "date":
        return f"coalesce(try_cast({v} AS DATE), try_cast(try_cast({v} AS TIMESTAMP) AS DATE))"
    if f.type == "timestamp":
        # Naive timestamps are Europe/Paris local time (contract). The session time zone is
        # Europe/Paris, so a naive string is read as Paris time and one with an offset is
        # converted; both come out as Paris local wall-clock time. The usual shape, a naive
        # second-precision stamp, is that wall-clock time already: a plain cast, ~3x cheaper
        # than the time-zone round trip (the 2 a.m. hour keeps the round trip, which moves a
        # stamp in the spring-forward gap exactly as before).
        zoned = f"timezone('Europe/Paris', try_cast({v} AS TIMESTAMPTZ))"
        return (f"CASE WHEN {v} LIKE '____-__-__T__:__:__' AND substr({v}, 12, 2) <> '02' "
                f"THEN try_cast({v} AS TIMESTAMP) ELSE {zoned} END")
    if f.type == "bool":
        return (f"CASE lower({v}) WHEN 'true' THEN true WHEN '1' THEN true "
                f"WHEN 'false' THEN false WHEN '0' THEN false END")
    if f.type == "json":
        return f"CASE WHEN json_valid({v}) THEN CAST({v} AS JSON) END"
    raise ValueError(f"unknown field type {f.type!r} for {f.name}")


def items_expr(f: Field, doc: str) -> str:
    """The objects of a JSON array field (order lines) as a list of structs of their fields' text:
    each object is parsed once here, not once per rule."""
    shape = "[{" + ", ".join(f'"{i.name}": "VARCHAR"' for i in f.items) + "}]"
    return f"from_json({doc}, {quote_literal(shape)})"


def _item_rules(f: Field, items: str, doc: str) -> list[tuple[str, str]]:
    """Rules on the objects of a JSON array field; `items` is its `items_expr`, `doc` its JSON value."""
    rules = [(f"coalesce(json_array_length({doc}), 0) = 0", f"missing_required: {f.name}")]
    for item in f.items:
        x = f"x.{quote_ident(item.name)}"
        typed = typed_expr(item, x)
        if item.required:
            rules.append((f"list_bool_or(list_transform({items}, lambda x: {blank_to_null(x)} IS NULL))",
                          f"missing_required: {f.name}.{item.name}"))
            rules.append((f"list_bool_or(list_transform({items}, lambda x: {typed} IS NULL))",
                          f"bad_type: {f.name}.{item.name} is not {item.type}"))
        else:
            rules.append(((f"list_bool_or(list_transform({items}, lambda x: {blank_to_null(x)} IS NOT NULL "
                           f"AND {typed} IS NULL))"), f"bad_type: {f.name}.{item.name} is not {item.type}"))
        if item.non_negative:
            rules.append((f"list_bool_or(list_transform({items}, lambda x: {typed} < 0))",
                          f"negative_price: {f.name}.{item.name}"))
    return rules


def judged_fields(spec: EntitySpec) -> list[str]:
    """The fields the rules of `reason_expr` look at."""
    return [f.name for f in spec.fields
            if f.required or f.enum or f.non_negative or f.items or f.name == spec.currency_field]


def reason_expr(spec: EntitySpec, col=quote_ident, typed_col=None, blank_col=None, items_col=None) -> str:
    """First reason a row is bad, or NULL. Reasons name columns, never values (personal data).
    `col(name)` is the raw VARCHAR value; `typed_col(name)`, `blank_col(name)` and
    `items_col(name)`, when given, columns that already hold its `typed_expr`, `blank_to_null`
    and `items_expr` (computed once per row, not once per rule)."""
    rules: list[tuple[str, str]] = []
    for f in spec.fields:
        raw = col(f.name)
        typed = typed_col(f.name) if typed_col else typed_expr(f, raw, spec.decimal_comma)
        blank = blank_col(f.name) if blank_col else blank_to_null(raw)
        if f.required:
            rules.append((f"{blank} IS NULL", f"missing_required: {f.name}"))
            rules.append((f"{typed} IS NULL", f"bad_type: {f.name} is not {f.type}"))
        if f.enum:
            # a chain of <>, not NOT IN: DuckDB turns an IN list into a join, which does not keep
            # the scan's row order the loader reads line numbers from
            unknown = " AND ".join(f"{typed} <> {quote_literal(v)}" for v in f.enum)
            rules.append((f"{typed} IS NOT NULL AND {unknown}", f"unknown_enum: {f.name}"))
        if f.non_negative:
            rules.append((f"{typed} < 0", f"negative_price: {f.name}"))
        if f.items:
            # only meaningful once the array itself parsed
            items = items_col(f.name) if items_col else items_expr(f, typed)
            rules.extend((f"{typed} IS NOT NULL AND ({cond})", why) for cond, why in _item_rules(f, items, typed))
    if spec.currency_field:
        cur = blank_col(spec.currency_field) if blank_col else blank_to_null(col(spec.currency_field))
        rules.append((f"{cur} IS NOT NULL AND upper({cur}) <> 'EUR'",
                      f"unsupported_currency: {spec.currency_field}"))
    whens = " ".join(f"WHEN {cond} THEN {quote_literal(why)}" for cond, why in rules)
    return f"CASE {whens} END"
