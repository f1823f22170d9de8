"""Python values <-> the JSON text the C library reads and writes.

Nothing here knows what a rule means.  Orders go out through the C-speed
json encoder; only the values JSON has no notation for pass through
``_default``: Decimal as a plain decimal string (exact), date as
``YYYY-MM-DD``, aware datetime as ISO 8601 with its offset.  Results come
back through json.loads with money left as the strings the library wrote;
``decimal=True`` turns every money field of a result or refund into Decimal,
found by the shape of the JSON (never parse_float: points are ints, and
money is never a float).  A float anywhere in an order is a TypeError before
anything is sent: a binary fraction is not an amount of money.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping

from ._native import has_float
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


def _reject_floats(document: Any, what: str) -> None:
    """TypeError naming the path of the first float: money must be exact, and
    a float is a binary fraction (0.1 + 0.2 is not 0.3)."""
    path, value = next(((p, v) for p, v in _paths(document, "") if isinstance(v, float)),
                       (None, None))
    if path is None:
        return
    raise TypeError(f"{path}: a float cannot be sent in the {what} ({value!r} is a binary "
                    "fraction, not an exact amount); give money as a str ('19.99'), an int "
                    "or a Decimal")


def _order_error(message: str, path: str | None) -> OrderError:
    err = OrderError(f"{path}: {message}" if path else message)
    err.code = _EORDER
    err.message = message
    err.path = path
    return err


def encode(document: Mapping[str, Any], what: str) -> str:
    """The JSON text of an order (or refund request); TypeError with the
    path of the first float, OrderError with the path of the first value
    that JSON cannot carry."""
    if not isinstance(document, dict) and not isinstance(document, Mapping):
        raise TypeError(f"the {what} must be a dict (a mapping), not {type(document).__name__}")
    try:
        text = _encoder.encode(document)
    except _Unencodable as e:
        _reject_floats(document, what)          # a float is a float wherever it is
        path = next((p for p, v in _paths(document, "") if v is e.value), None)
        raise _order_error(e.reason, path) from None
    except ValueError as e:                     # NaN or infinity: floats
        _reject_floats(document, what)
        raise _order_error(str(e), None) from None
    except RecursionError:
        raise _order_error(f"the {what} is nested too deeply or contains itself", None) from None
    except TypeError as e:                   # a key that is not a string
        raise _order_error(f"the {what} cannot be written as JSON: {e}", None) from None
    if has_float(document):                  # C: no cycle left, the encoder took it
        _reject_floats(document, what)
    return text


def decode(text: str) -> dict[str, Any]:
    """A result or refund JSON object as a dict (money stays the library's strings)."""
    result: dict[str, Any] = json.loads(text)
    return result


# -- money as Decimal, on request -------------------------------------------
#
# Where money is, as the result and refund JSON are shaped: a dict maps a key
# to the shape of its value, a one-element list means "every element (an
# object) has this shape", MONEY is a money string, and EVERY_STRING an
# object whose string
# values are all money (totals: money is a string there and points are ints,
# so whatever money field a later version adds to the totals is converted
# too).  The taxes parts are those of the contract's tax extension; absent
# keys are skipped.
MONEY = "money"
EVERY_STRING = "every string"

_RESULT_SHAPE: dict[str, Any] = {
    "lines": [{"unit_price": MONEY, "subtotal": MONEY, "total": MONEY,
               "discounts": [{"amount": MONEY}],
               "redeemed": {"value": MONEY},
               "tax": {"amount": MONEY}}],
    "totals": EVERY_STRING,
    "taxes": [{"base": MONEY, "amount": MONEY}],
}

_REFUND_SHAPE: dict[str, Any] = {
    "lines": [{"amount": MONEY, "fee": MONEY, "tax": {"amount": MONEY}}],
    "totals": EVERY_STRING,
    "reprice": {"paid": MONEY, "now": MONEY},
}


def _every_string(value: Any) -> None:
    if type(value) is dict:
        for k, v in value.items():
            if type(v) is str:
                value[k] = Decimal(v)


def _converter(shape: Any) -> Callable[[Any], None]:
    """A function that turns the money strings in a container of this shape
    into Decimal, in place; built once per shape, at import.  Money fields
    are converted in the loop, nested containers by their own converter."""
    if shape == EVERY_STRING:
        return _every_string
    if isinstance(shape, list):
        element = _converter(shape[0])

        def each(value: Any) -> None:
            if type(value) is list:
                for v in value:
                    element(v)
        return each
    money = tuple(k for k, sub in shape.items() if sub == MONEY)
    nested = tuple((k, _converter(sub)) for k, sub in shape.items() if sub != MONEY)

    def record(value: Any) -> None:
        if type(value) is dict:
            for key in money:
                v = value.get(key)
                if type(v) is str:
                    value[key] = Decimal(v)
            for key, convert in nested:
                v = value.get(key)
                if v is not None:
                    convert(v)
    return record


_result_money = _converter(_RESULT_SHAPE)
_refund_money = _converter(_REFUND_SHAPE)


def decimal_result_money(result: dict[str, Any]) -> None:
    _result_money(result)


def decimal_refund_money(refund: dict[str, Any]) -> None:
    _refund_money(refund)
