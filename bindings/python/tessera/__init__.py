"""Tessera: ticket pricing and loyalty rules, from Python.

Load a rule set once and evaluate orders against it::

    import tessera

    rules = tessera.RuleSet.from_file("rules/park/park.yaml")
    result = rules.evaluate({
        "datetime": "2026-06-13T14:30:00+03:00",
        "items": [{"id": "t1", "kind": "ticket", "height_cm": 118,
                   "event_start": "2026-06-13T10:00:00+03:00"}],
    })
    result["totals"]["due"]          # '2200.00'

Orders are plain dicts in the shape of the JSON order (SPEC §5); results are
dicts in the shape of the result JSON (SPEC §6), money as strings ("1800.00")
or, with ``decimal=True``, as :class:`decimal.Decimal`.  Orders may carry
:class:`~decimal.Decimal`, :class:`~datetime.date` and aware
:class:`~datetime.datetime` values where the order has money, dates and times.

Every failure raises an exception: :class:`RuleError` (with ``file``,
``line``, ``column``) when a rule file cannot be loaded, :class:`OrderError`
(with ``path``, e.g. ``items[1].id``) when an order or refund request is
invalid (its subclass :class:`ReceiptError` when a refund's receipt does not
match its order), :class:`EvaluationError` when a valid order cannot be
evaluated; all derive from :class:`Error`.

Everything a rule means is decided by the C library (libtessera); this
package only converts between Python values and the library's JSON.  A
:class:`RuleSet` is immutable and may be shared by threads: evaluation runs
without the GIL.
"""
from __future__ import annotations

import datetime as _dt
import os
from typing import Any, Iterable, Mapping, Sequence, Union

from ._codec import decode, encode, decimal_refund_money, decimal_result_money
from ._native import NativeRuleSet as _NativeRuleSet
from ._tessera import Error, EvaluationError, OrderError, ReceiptError, RuleError

__all__ = [
    "RuleSet",
    "Error",
    "RuleError",
    "OrderError",
    "EvaluationError",
    "ReceiptError",
    "__version__",
    "library_version",
]



def __dir__() -> list[str]:
    """The API, not the names the package imports for itself (os, typing's
    Any, ...): what ``dir(tessera)`` and tab completion show."""
    return sorted(__all__)


#: Version of the C library this package runs on (``tsr_version()``); the
#: Python package is versioned with the library it wraps.
__version__: str = _NativeRuleSet.library_version()

StrPath = Union[str, "os.PathLike[str]"]


def _allowed(paths: Iterable[StrPath]) -> str:
    """allow_paths as the native loader takes them: NUL-separated."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError("allow_paths must be a list of directories, not one path")
    dirs = [os.fsdecode(p) for p in paths]
    if any("\0" in d for d in dirs):
        raise ValueError("allow_paths: a directory name cannot contain a NUL byte")
    return "\0".join(dirs)


def library_version() -> str:
    """The version of the libtessera the binding is running on."""
    return _NativeRuleSet.library_version()


class RuleSet:
    """A loaded, type-checked rule set.

    Make one with :meth:`from_file` or :meth:`from_string`; it is immutable,
    may be shared by any number of threads, and stays valid as long as it is
    referenced.  Results are plain dicts that do not refer back to it.
    """

    __slots__ = ("_native", "__weakref__")

    _native: _NativeRuleSet

    def __init__(self) -> None:
        raise TypeError("use RuleSet.from_file(path) or RuleSet.from_string(text)")

    @classmethod
    def _wrap(cls, native: _NativeRuleSet) -> RuleSet:
        self = object.__new__(cls)
        self._native = native
        return self

    @classmethod
    def from_file(cls, path: StrPath, *, allow_paths: Iterable[StrPath] = ()) -> RuleSet:
        """Load, resolve and type-check a rule file and the files it includes.

        ``include:`` may read only from the rule file's own directory and
        below; ``allow_paths`` names further directories (``"/"`` allows
        every path).  Raises :class:`RuleError` (``file``, ``line``,
        ``column``) when the file cannot be read or is not a valid rule set.
        """
        return cls._wrap(_NativeRuleSet.load_file(os.fsdecode(path), _allowed(allow_paths)))

    @classmethod
    def from_string(cls, text: str, name: str | None = None, *,
                    allow_paths: Iterable[StrPath] = ()) -> RuleSet:
        """Load a rule set from YAML text.

        ``name`` is used in error messages and as the base for relative
        ``include:`` paths (default ``"<string>"``, includes relative to the
        working directory, and confined to it unless ``allow_paths`` names
        more directories).  Raises :class:`RuleError`.
        """
        return cls._wrap(_NativeRuleSet.load_string(text, name, _allowed(allow_paths)))

    @property
    def id(self) -> str:
        """The rule set's ``ruleset`` id."""
        return self._native.id()

    @property
    def version(self) -> str:
        """The rule set's ``version``."""
        return self._native.version()

    @property
    def currency(self) -> str:
        """The rule set's currency code (ISO 4217)."""
        return self._native.currency()

    def __repr__(self) -> str:
        return f"<tessera.RuleSet {self.id!r} version {self.version!r}>"

    # -- evaluation --------------------------------------------------------

    def evaluate(self, order: Mapping[str, Any], *, decimal: bool = False,
                 customer_safe: bool = False, trace: bool = True) -> dict[str, Any]:
        """Price an order: categories, discounts, promo codes, points, offers.

        ``order`` is a dict shaped like the JSON order; money may be given as
        strings, ints or :class:`~decimal.Decimal`, dates as
        :class:`~datetime.date`, times as aware :class:`~datetime.datetime`
        (a naive datetime is an :class:`OrderError`: the offset is needed).

        Returns the result dict.  Money is a string with the currency's minor
        digits, or a :class:`~decimal.Decimal` when ``decimal`` is true;
        points are ints.  ``customer_safe`` reports every rejected promo code
        as ``not_applicable``; ``trace=False`` skips the trace (faster).

        Raises :class:`OrderError` (``path``) for an invalid order and
        :class:`EvaluationError` when evaluation fails.
        """
        text = self._native.evaluate_json(encode(order, "order"), bool(customer_safe),
                                          not trace)
        result = decode(text)
        if decimal:
            decimal_result_money(result)
        return result

    def evaluate_json(self, order: str | bytes, *, customer_safe: bool = False,
                      trace: bool = True) -> str:
        """Evaluate order JSON (or YAML) text and return the result JSON text,
        byte for byte what ``tessera eval`` prints.  Raises like
        :meth:`evaluate`."""
        return self._native.evaluate_json(order, bool(customer_safe), not trace)

    # -- refunds -----------------------------------------------------------

    def refund(self, order: Mapping[str, Any], receipt: Mapping[str, Any],
               lines: Sequence[str], datetime: _dt.datetime | str, *,
               previous: Mapping[str, Any] | None = None,
               decimal: bool = False) -> dict[str, Any]:
        """Refund lines of an order that was evaluated earlier.

        ``receipt`` is the result :meth:`evaluate` returned for ``order``
        (money as strings or Decimals), ``lines`` the ids of the lines to
        refund, ``datetime`` the refund time (an aware
        :class:`~datetime.datetime` or an ISO 8601 string with offset).
        ``previous`` is what earlier refunds of the same order took,
        ``{"lines": [ids], "clawback": "0.00"}`` from your own records (the
        library keeps no state): those lines are rejected as already
        refunded.  ``"clawback"`` is what they withheld, net (their
        ``totals.clawback`` minus ``totals.clawback_returned``, added up):
        required when ``"lines"`` is not empty and the rule set re-prices
        (:class:`OrderError` at ``previous.clawback`` when left out),
        otherwise 0 when left out; above the most they can have withheld it
        is a :class:`ReceiptError` at ``previous.clawback``.

        Returns the refund dict (SPEC §4, Refund): per line ``refunded`` with
        amount, fee and points, or ``rejected`` with the reason ``why``;
        totals; money as strings, or Decimals when ``decimal`` is true.

        Raises :class:`ReceiptError` (``path``, e.g.
        ``receipt.lines[0].total``) when the receipt does not match the order
        and rule set, :class:`OrderError` (``path``) when the request is
        otherwise invalid (an unknown or repeated line id, a bad time).
        """
        if isinstance(lines, (str, bytes)):
            raise TypeError("lines must be a sequence of line ids, not a single string")
        request: dict[str, Any] = {"order": order, "receipt": receipt, "lines": list(lines),
                                   "datetime": datetime}
        if previous is not None:
            request["previous"] = previous
        result = decode(self._native.refund_json(encode(request, "refund request")))
        if decimal:
            decimal_refund_money(result)
        return result

    def refund_json(self, request: str | bytes) -> str:
        """Refund from a request given as JSON text
        (``{"order", "receipt", "lines", "datetime", "previous"?}``, what
        ``tessera refund`` reads); returns the refund JSON text.  Raises like
        :meth:`refund`."""
        return self._native.refund_json(request)
