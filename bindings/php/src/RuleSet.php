<?php

declare(strict_types=1);

namespace Tessera;

/**
 * A loaded, type-checked Tessera rule set.
 *
 *     $rules  = Tessera\RuleSet::fromFile('rules/park/park.yaml');
 *     $result = $rules->evaluate([
 *         'datetime' => '2026-06-13T14:30:00+03:00',
 *         'items'    => [['id' => 't1', 'kind' => 'ticket', 'height_cm' => 118,
 *                         'event_start' => '2026-06-13T10:00:00+03:00']],
 *     ]);
 *     $result['totals']['due'];   // "2200.00"
 *
 * Orders are arrays shaped like the JSON order (SPEC §5); results are arrays
 * shaped like the result JSON (SPEC §6), money as decimal strings ("1800.00":
 * feed them to bcmath, never to float), points as ints.  DateTimeInterface
 * values are sent as ISO 8601 datetimes with their offset; dates (birthday,
 * last_visit) are 'Y-m-d' strings.
 *
 * Every failure throws: Tessera\RuleError (getRuleFile(), getRuleLine(),
 * getRuleColumn()) when a rule file cannot be loaded, Tessera\OrderError
 * (getPath(), e.g. "items[1].id") when an order or refund request is invalid,
 * (its subclass Tessera\ReceiptError when a refund's receipt does not match
 * its order), Tessera\EvaluationError when a valid order cannot be evaluated; all extend
 * Tessera\Error, a \RuntimeException.  Those classes come from the tessera
 * extension, as does everything a rule means: this class only converts
 * between PHP arrays and the library's JSON.
 *
 * A rule set is immutable; keep one per worker and reuse it for every order.
 */
final class RuleSet
{
    private function __construct(private \TesseraNativeRuleSet $native)
    {
    }

    /**
     * Load, resolve and type-check a rule file and the files it includes.
     * `include:` may read only from the rule file's own directory and below;
     * $allowPaths names further directories ("/" allows every path).
     *
     * @param list<string> $allowPaths
     * @throws RuleError when the file cannot be read or is not a valid rule set
     */
    public static function fromFile(string $path, array $allowPaths = []): self
    {
        self::requireExtension();
        return new self(\TesseraNativeRuleSet::load_file($path, self::allowed($allowPaths)));
    }

    /**
     * Load a rule set from YAML text.  $name is used in error messages and as
     * the base for relative includes (default "<string>", the working
     * directory, which includes are confined to unless $allowPaths names more).
     *
     * @param list<string> $allowPaths
     * @throws RuleError
     */
    public static function fromString(string $text, ?string $name = null, array $allowPaths = []): self
    {
        self::requireExtension();
        return new self(\TesseraNativeRuleSet::load_string($text, $name, self::allowed($allowPaths)));
    }

    /** $allowPaths as the native loader takes them: NUL-separated. */
    private static function allowed(array $allowPaths): string
    {
        foreach ($allowPaths as $dir) {
            if (!is_string($dir)) {
                throw new \TypeError('allowPaths must be a list of directory names');
            }
            if (str_contains($dir, "\0")) {
                throw new \ValueError('allowPaths: a directory name cannot contain a NUL byte');
            }
        }
        return implode("\0", $allowPaths);
    }

    /** The rule set's `ruleset` id. */
    public function id(): string
    {
        return $this->native->id();
    }

    /** The rule set's `version`. */
    public function version(): string
    {
        return $this->native->version();
    }

    /** The rule set's currency code (ISO 4217). */
    public function currency(): string
    {
        return $this->native->currency();
    }

    /** The version of the C library the extension runs on. */
    public static function libraryVersion(): string
    {
        self::requireExtension();
        return \TesseraNativeRuleSet::library_version();
    }

    /**
     * Price an order: categories, discounts, promo codes, points, offers.
     *
     * @param array<string, mixed> $order the order (SPEC §5)
     * @param bool $customerSafe report every rejected promo code as `not_applicable`
     * @param bool $trace false skips the trace (faster; `trace` is then empty)
     * @return array<string, mixed> the result (SPEC §6)
     * @throws OrderError with getPath() when the order is invalid
     * @throws EvaluationError when evaluation fails
     */
    public function evaluate(array $order, bool $customerSafe = false, bool $trace = true): array
    {
        $json = $this->native->evaluate_json(Json::encodeOrder($order, 'order'), (int) $customerSafe,
                                             (int) !$trace);
        return Json::decode($json);
    }

    /**
     * Evaluate order JSON (or YAML) text; returns the result JSON text, byte
     * for byte what `tessera eval` prints.
     *
     * @throws OrderError|EvaluationError
     */
    public function evaluateJson(string $orderJson, bool $customerSafe = false, bool $trace = true): string
    {
        return $this->native->evaluate_json($orderJson, (int) $customerSafe, (int) !$trace);
    }

    /**
     * Refund lines of an order evaluated earlier.
     *
     * The library keeps no state: what earlier refunds of the same order took
     * comes in as $previous, ['lines' => [ids], 'clawback' => '0.00'] from
     * your own records; those lines are rejected as already refunded.
     * 'clawback' (their totals.clawback minus clawback_returned, added up)
     * is required when 'lines' is not empty and the rule set re-prices
     * (OrderError at previous.clawback when left out), otherwise 0 when left
     * out; above the most they can have withheld it is a ReceiptError at
     * previous.clawback.
     *
     * @param array<string, mixed> $order the order as it was evaluated
     * @param array<string, mixed> $receipt the result evaluate() returned for it
     * @param list<string> $lines ids of the lines to refund
     * @param \DateTimeInterface|string $datetime the refund time (ISO 8601 with offset)
     * @param array{lines: list<string>, clawback?: string}|null $previous earlier refunds
     * @return array<string, mixed> the refund (SPEC §4, Refund): per line `refunded`
     *     with amount, fee and points, or `rejected` with the reason `why`; totals
     * @throws ReceiptError with getPath() (receipt.lines[0].total) when the receipt
     *     does not match the order and rule set
     * @throws OrderError with getPath() when the request is otherwise invalid (an
     *     unknown or repeated line id, a bad time)
     */
    public function refund(array $order, array $receipt, array $lines,
                           \DateTimeInterface|string $datetime, ?array $previous = null): array
    {
        $request = '{"order":' . Json::encodeOrder($order, 'order')
            . ',"receipt":' . Json::encodeReceipt($receipt)
            . ',"lines":' . Json::encodeValue(array_values($lines), 'lines')
            . ',"datetime":' . Json::encodeValue($datetime, 'datetime');
        if ($previous !== null) {
            if (isset($previous['lines']) && \is_array($previous['lines'])) {
                $previous['lines'] = array_values($previous['lines']);
            }
            $request .= ',"previous":' . Json::encodeValue($previous, 'previous');
        }
        return Json::decode($this->native->refund_json($request . '}'));
    }

    /**
     * Refund from a request given as JSON text ({"order", "receipt", "lines",
     * "datetime", "previous"?}, what `tessera refund` reads); returns the
     * refund JSON.
     *
     * @throws OrderError
     */
    public function refundJson(string $requestJson): string
    {
        return $this->native->refund_json($requestJson);
    }

    private static function requireExtension(): void
    {
        if (!\extension_loaded('tessera')) {
            throw new \LogicException('the tessera extension is not loaded: add '
                . '"extension=tessera" to php.ini (see docs/php.md)');
        }
    }
}
