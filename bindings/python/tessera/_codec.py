"""Python values <-> the JSON text the C library reads and writes.

Nothing here knows what a rule means.  Orders go out through the C-speed
json encoder; only the values JSON has no notation for pass through
``_default``: Decimal as a plain decimal string (exact), date as
``YYYY-MM-DD``, aware datetime as ISO 8601 with its offset.  Results come
back through json.loads with money left as the strings the library wrote;
``decimal=True`` turns the known money fields of a result or refund into
Decimal (never parse_float: points are ints, and money is never a float).
"""
from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Iterator, Mapping

from ._tessera import OrderError

_EORDER = -7  # TSR_EORDER


class _Unencodable(Exception):
    def __init__(self, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _Unencodable(value, f"{value} is not a finite number")
        return format(value, "f")            # plain notation, every digit kept
    if isinstance(value, datetime):          # before date: a datetime is a date
        if value.utcoffset() is None:
            raise _Unencodable(value, "a datetime needs a UTC offset (give an aware "
                                      "datetime, e.g. tzinfo=timezone.utc)")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        raise _Unencodable(value, "a time of day is not an order value (give a datetime)")
    raise _Unencodable(value, f"a {type(value).__name__} cannot be sent in an order")


# ASCII output (\u escapes) and no circular-reference bookkeeping are the
# fastest settings of the C encoder; a cycle then ends in RecursionError.
_encoder = json.JSONEncoder(default=_default, ensure_ascii=True, allow_nan=False,
                            separators=(",", ":"), check_circular=False)


def _paths(value: Any, path: str, seen: set[int] | None = None) -> Iterator[tuple[str, Any]]:
    """Every (JSON path, value) under value, in the library's path notation
    (items[1].id); containers met twice (a cycle) are not entered again."""
    yield path, value
    if isinstance(value, (Mapping, list, tuple)):
        seen = set() if seen is None else seen
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, Mapping):
            for k, v in value.items():
                yield from _paths(v, f"{path}.{k}" if path else str(k), seen)
        else:
            for i, v in enumerate(value):
                yield from _paths(v, f"{path}[{i}]", seen)


def _bad_float(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _order_error(message: str, path: str | None) -> OrderError:
    err = OrderError(f"{path}: {message}" if path else message)
    err.code = _EORDER
    err.message = message
    err.path = path
    return err


def encode(document: Mapping[str, Any], what: str) -> str:
    """The JSON text of an order (or refund request); OrderError with the
    path of the first value that JSON cannot carry."""
    if not isinstance(document, dict) and not isinstance(document, Mapping):
        raise TypeError(f"the {what} must be a dict (a mapping), not {type(document).__name__}")
    try:
        return _encoder.encode(document)
    except _Unencodable as e:
        path = next((p for p, v in _paths(document, "") if v is e.value), None)
        raise _order_error(e.reason, path) from None
    except ValueError as e:                  # NaN/inf floats
        path = next((p for p, v in _paths(document, "") if _bad_float(v)), None)
        raise _order_error(str(e), path) from None
    except RecursionError:
        raise _order_error(f"the {what} is nested too deeply or contains itself", None) from None
    except TypeError as e:                   # a key that is not a string
        raise _order_error(f"the {what} cannot be written as JSON: {e}", None) from None


def decode(text: str) -> dict[str, Any]:
    """A result or refund JSON object as a dict (money stays the library's strings)."""
    result: dict[str, Any] = json.loads(text)
    return result


# -- money as Decimal, on request: the money fields of SPEC §6 and §4 Refund --

_LINE_MONEY = ("unit_price", "subtotal", "total")
_REFUND_LINE_MONEY = ("amount", "fee")
_REFUND_TOTAL_MONEY = ("amount", "fee", "clawback")
_REPRICE_MONEY = ("paid", "now")


def _to_decimal(record: dict[str, Any], keys: tuple[str, ...]) -> None:
    for k in keys:
        v = record.get(k)
        if isinstance(v, str):
            record[k] = Decimal(v)


def decimal_result_money(result: dict[str, Any]) -> None:
    for line in result.get("lines") or ():
        _to_decimal(line, _LINE_MONEY)
        for d in line.get("discounts") or ():
            _to_decimal(d, ("amount",))
        if isinstance(line.get("redeemed"), dict):
            _to_decimal(line["redeemed"], ("value",))
    totals = result.get("totals")
    if isinstance(totals, dict):
        _to_decimal(totals, tuple(totals))


def decimal_refund_money(refund: dict[str, Any]) -> None:
    for line in refund.get("lines") or ():
        _to_decimal(line, _REFUND_LINE_MONEY)
    totals = refund.get("totals")
    if isinstance(totals, dict):
        _to_decimal(totals, _REFUND_TOTAL_MONEY)
    reprice = refund.get("reprice")
    if isinstance(reprice, dict):
        _to_decimal(reprice, _REPRICE_MONEY)
