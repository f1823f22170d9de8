# Types of the compiled module (built by SWIG from bindings/swig/tessera.i):
# the exception classes of the binding's one error table.  The native rule-set
# handle is typed in _native.pyi.

class Error(Exception):
    """Base class of every Tessera error."""
    #: the TSR_E* status code (negative), e.g. -7 for an invalid order
    code: int | None
    #: the message without its location
    message: str | None
    #: rule file, None when the error is not about a file
    file: str | None
    #: 1-based line and column in `file`, None when unknown
    line: int | None
    column: int | None
    #: JSON path into the order or request, e.g. "items[1].id"
    path: str | None

class RuleError(Error):
    """A rule file could not be loaded; file, line and column say where."""

class OrderError(Error):
    """An order or refund request is invalid; path says where."""

class EvaluationError(Error):
    """A valid order could not be evaluated against the rule set."""

class ReceiptError(OrderError):
    """A refund's receipt does not match its order and rule set; path says where."""
