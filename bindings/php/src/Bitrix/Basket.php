<?php

declare(strict_types=1);

namespace Tessera\Bitrix;

use Tessera\OrderError;
use Tessera\RuleSet;

/**
 * A Bitrix `sale` basket priced by Tessera.
 *
 * Takes the basket rows as Bitrix hands them over — BasketItem::getFieldValues()
 * with the item's properties under PROPS: integer ID and PRODUCT_ID,
 * QUANTITY as "2.0000", prices as decimal strings ("150.0000") — turns them
 * into a Tessera order, evaluates it, and writes the result back into the
 * rows: line prices, discounts, points, and the coupons' statuses.
 *
 *     $basket = new Tessera\Bitrix\Basket($rules, [
 *         'fields' => ['height_cm' => ['HEIGHT_CM', 'int'], 'event_start' => ['VISIT_START', 'string']],
 *     ]);
 *     $summary = $basket->price($rows, ['id' => 'B-5501', 'datetime' => new DateTimeImmutable(),
 *                                       'customer' => [...], 'promo_codes' => $coupons]);
 *
 * Rows to order items (the map, the constructor's second argument):
 *   - id: ID as a string, or BASKET_CODE ("n1") for a row not saved yet;
 *   - kind: the PROPS value of map['kind'] (default KIND), else map['defaultKind'];
 *   - sku: PRODUCT_XML_ID (else PRODUCT_ID);
 *   - quantity: QUANTITY, a whole number ("2.0000", 2, 2.0); a fraction is
 *     refused with a BasketError naming the item (Tessera sells whole units);
 *   - price: BASE_PRICE, exactly as stored (Bitrix keeps 4 decimals; the
 *     library refuses a price finer than the currency), except for the kinds
 *     in map['rulePriced'] (default ['ticket']), whose price is the rule
 *     file's;
 *   - category: the PROPS value of map['category'] when set (a ticket type
 *     the buyer chose: the rule file must declare that category selectable);
 *   - map['fields']: schema fields from PROPS, ['field' => ['CODE', type]]
 *     with type int, bool (Y/N, 1/0, true/false) or string.
 * Rows put aside (DELAY = Y) or not for sale (CAN_BUY = N) are left alone.
 *
 * Written back, per row: BASE_PRICE (unit price), PRICE (per unit after
 * discounts), DISCOUNT_PRICE (per unit), CUSTOM_PRICE = Y (the catalog
 * must not reprice it), CURRENCY, and the properties TESSERA_CATEGORY,
 * TESSERA_DISCOUNTS (ids), TESSERA_TOTAL (the line after discounts and
 * points: the exact figure), TESSERA_POINTS_PAID (paid with points, an inner
 * payment in Bitrix, not a discount) and TESSERA_POINTS (earned).  Money is
 * written as decimal strings, never floats.  A line whose total after
 * discounts does not divide by its quantity gets PRICE rounded down to the
 * minor unit; TESSERA_TOTAL keeps the exact line figure.
 *
 * Nothing here decides a price: the rule file does, in the C library.
 */
final class Basket
{
    /** @var array{kind: string, defaultKind: string, category: ?string,
     *             fields: array<string, array{0: string, 1: string}>, rulePriced: list<string>} */
    private array $map;

    /** @param array<string, mixed> $map how rows become order items (see the class comment) */
    public function __construct(private RuleSet $rules, array $map = [])
    {
        $unknown = array_diff(array_keys($map), ['kind', 'defaultKind', 'category', 'fields', 'rulePriced']);
        if ($unknown !== []) {
            throw new \InvalidArgumentException('unknown basket map key: ' . implode(', ', $unknown));
        }
        $this->map = $map + ['kind' => 'KIND', 'defaultKind' => 'merch', 'category' => null,
                             'fields' => [], 'rulePriced' => ['ticket']];
        foreach ($this->map['fields'] as $field => $spec) {
            if (!\is_array($spec) || \count($spec) !== 2 || !\in_array($spec[1], ['int', 'bool', 'string'], true)) {
                throw new \InvalidArgumentException("basket map field $field: give [PROPS code, int|bool|string]");
            }
        }
    }

    /**
     * The Tessera order for $rows.  $order holds the order-level fields
     * (id, datetime, channel, customer, promo_codes, redeem_points, ...);
     * its items come from the rows, in their order.
     *
     * @param array<array-key, array<string, mixed>> $rows BasketItem::getFieldValues() with PROPS
     * @param array<string, mixed> $order
     * @return array<string, mixed>
     * @throws BasketError for a row that cannot be an item
     */
    public function toOrder(array $rows, array $order = []): array
    {
        $order['items'] = [];
        foreach ($this->priced($rows) as $i => $key) {
            $order['items'][] = $this->item($rows[$key], $i);
        }
        return $order;
    }

    /**
     * Price the basket and write the result into $rows (only when the whole
     * basket could be priced: on an exception $rows is untouched).
     *
     * @param array<array-key, array<string, mixed>> $rows
     * @param array<string, mixed> $order the order-level fields, as for toOrder()
     * @return array{currency: string, totals: array<string, string>, points: array<string, mixed>,
     *               coupons: array<string, array{STATUS: string, REASON: ?string, RULE: ?string}>,
     *               offers: list<array<string, string>>, result: array<string, mixed>}
     * @throws BasketError when an item is refused (the library's OrderError as previous)
     * @throws OrderError for an order-level error (customer, promo codes, ...)
     * @throws \Tessera\EvaluationError
     */
    public function price(array &$rows, array $order = []): array
    {
        $tessera = $this->toOrder($rows, $order);
        try {
            $result = $this->rules->evaluate($tessera, trace: false);
        } catch (OrderError $e) {
            throw $this->basketError($e, $rows) ?? $e;
        }
        $this->apply($rows, $result);
        return self::summary($result);
    }

    /**
     * Write a result (of the order toOrder() made for these rows) into the rows.
     *
     * @param array<array-key, array<string, mixed>> $rows
     * @param array<string, mixed> $result
     */
    public function apply(array &$rows, array $result): void
    {
        $lines = array_column($result['lines'], null, 'id');
        $written = $rows;                            // all rows or none
        foreach ($this->priced($rows) as $i => $key) {
            $id = self::itemId($rows[$key], $i);
            if (!isset($lines[$id])) {
                throw new \InvalidArgumentException("the result has no line $id: it is not this basket's");
            }
            $written[$key] = self::writeLine($rows[$key], $lines[$id], $result['currency']);
        }
        $rows = $written;
    }

    /**
     * The order-level part of a result: totals, points, offers, and the
     * coupons by code as Bitrix's coupon list shows them (STATUS accepted or
     * rejected, REASON expired, usage_limit, ...).
     *
     * @param array<string, mixed> $result
     * @return array<string, mixed>
     */
    public static function summary(array $result): array
    {
        $coupons = [];
        foreach ($result['promo_codes'] as $code) {
            $coupons[$code['code']] = ['STATUS' => $code['status'], 'REASON' => $code['reason'] ?? null,
                                       'RULE' => $code['id'] ?? null];
        }
        return ['currency' => $result['currency'], 'totals' => $result['totals'],
                'points' => $result['points'], 'coupons' => $coupons, 'offers' => $result['offers'],
                'result' => $result];
    }

    /** @return list<array-key> the keys of the rows that are priced, in order */
    private function priced(array $rows): array
    {
        $keys = [];
        foreach ($rows as $key => $row) {
            if (($row['DELAY'] ?? 'N') === 'Y' || ($row['CAN_BUY'] ?? 'Y') === 'N') {
                continue;
            }
            $keys[] = $key;
        }
        return $keys;
    }

    /** @return array<string, mixed> */
    private function item(array $row, int $i): array
    {
        $props = self::props($row);
        $item = ['id' => self::itemId($row, $i),
                 'kind' => (string) ($props[$this->map['kind']] ?? $this->map['defaultKind']),
                 'quantity' => self::quantity($row, $i)];
        $sku = $row['PRODUCT_XML_ID'] ?? $row['PRODUCT_ID'] ?? null;
        if ($sku !== null && $sku !== '') {
            $item['sku'] = (string) $sku;
        }
        if (!\in_array($item['kind'], $this->map['rulePriced'], true)) {
            $item['price'] = self::price4($row, 'BASE_PRICE', $i);
        }
        if ($this->map['category'] !== null && isset($props[$this->map['category']])
            && $props[$this->map['category']] !== '') {
            $item['category'] = (string) $props[$this->map['category']];
        }
        foreach ($this->map['fields'] as $field => [$code, $type]) {
            if (!isset($props[$code]) || $props[$code] === '') {
                continue;                        // missing: the rule file decides what that means
            }
            $item[$field] = self::typed((string) $props[$code], $type, $row, $i, $field);
        }
        return $item;
    }

    private static function itemId(array $row, int $i): string
    {
        return self::idOf($row) ?? throw new BasketError('the basket item has neither ID nor BASKET_CODE',
                                                          null, self::nameOf($row), "items[$i].id");
    }

    /** QUANTITY as whole units: "2.0000", 2 and 2.0 are 2; "1.5000" is refused. */
    private static function quantity(array $row, int $i): int
    {
        $q = $row['QUANTITY'] ?? 1;
        if (\is_int($q)) {
            return $q;
        }
        if (\is_float($q) && is_finite($q) && floor($q) === $q && abs($q) < 1e15) {
            return (int) $q;
        }
        if (\is_string($q) && preg_match('/^\s*(-?\d{1,15})(?:\.0*)?\s*$/', $q, $m)) {
            return (int) $m[1];
        }
        $shown = \is_string($q) || \is_int($q) || \is_float($q) ? var_export($q, true) : get_debug_type($q);
        throw new BasketError("QUANTITY $shown is not a whole number: Tessera prices whole units "
                              . '(tickets, portions, pieces)', self::idOf($row), self::nameOf($row),
                              "items[$i].quantity");
    }

    /** A Bitrix money field as the decimal string it is stored as (DECIMAL(18,4)). */
    private static function price4(array $row, string $field, int $i): string
    {
        $v = $row[$field] ?? null;
        if (\is_string($v) && preg_match('/^\s*(-?\d+(?:\.\d+)?)\s*$/', $v, $m)) {
            return $m[1];
        }
        if (\is_int($v)) {
            return (string) $v;
        }
        // getFieldValues() of a loaded item may give floats: the column holds
        // 4 decimals, so 4 decimals read back what was stored.
        if (\is_float($v) && is_finite($v)) {
            return number_format($v, 4, '.', '');
        }
        throw new BasketError("$field " . var_export($v, true) . ' is not a price', self::idOf($row),
                              self::nameOf($row), "items[$i].price");
    }

    private static function typed(string $value, string $type, array $row, int $i, string $field): int|bool|string
    {
        switch ($type) {
            case 'int':
                if (preg_match('/^\s*(-?\d{1,18})\s*$/', $value, $m)) {
                    return (int) $m[1];
                }
                break;
            case 'bool':
                $b = ['Y' => true, 'N' => false, '1' => true, '0' => false, 'true' => true, 'false' => false];
                if (isset($b[$value])) {
                    return $b[$value];
                }
                break;
            default:
                return $value;
        }
        throw new BasketError("property value '$value' is not $type", self::idOf($row), self::nameOf($row),
                              "items[$i].$field");
    }

    /**
     * PROPS in either shape Bitrix uses: a list of ['CODE' => ..., 'VALUE' => ...]
     * or getPropertyValues()'s map keyed by CODE.
     *
     * @return array<string, mixed> CODE => VALUE
     */
    private static function props(array $row): array
    {
        $values = [];
        foreach ($row['PROPS'] ?? [] as $key => $prop) {
            if (\is_array($prop)) {
                $code = $prop['CODE'] ?? (\is_string($key) ? $key : null);
                if ($code !== null) {
                    $values[(string) $code] = $prop['VALUE'] ?? null;
                }
            }
        }
        return $values;
    }

    /** @param array<string, mixed> $line a result line */
    private static function writeLine(array $row, array $line, string $currency): array
    {
        [$unit, $digits] = self::minor($line['unit_price']);
        $quantity = (int) $line['quantity'];
        $afterDiscounts = self::minor($line['subtotal'])[0];
        foreach ($line['discounts'] as $d) {
            $afterDiscounts -= self::minor($d['amount'])[0];
        }
        $perUnit = intdiv($afterDiscounts, $quantity);
        $row['BASE_PRICE'] = self::money($unit, $digits);
        $row['PRICE'] = self::money($perUnit, $digits);
        $row['DISCOUNT_PRICE'] = self::money($unit - $perUnit, $digits);
        $row['CUSTOM_PRICE'] = 'Y';
        $row['CURRENCY'] = $currency;
        $props = [
            'TESSERA_CATEGORY' => ['Tessera: category', (string) ($line['category'] ?? '')],
            'TESSERA_DISCOUNTS' => ['Tessera: discounts', implode(', ', array_column($line['discounts'], 'id'))],
            'TESSERA_TOTAL' => ['Tessera: line total', $line['total']],
            'TESSERA_POINTS_PAID' => ['Tessera: paid with points', $line['redeemed']['value'] ?? self::money(0, $digits)],
            'TESSERA_POINTS' => ['Tessera: points earned', (string) $line['points_earned']],
        ];
        $row['PROPS'] = self::withProps($row['PROPS'] ?? [], $props);
        return $row;
    }

    /**
     * PROPS with the TESSERA_* properties replaced, in the shape they came in.
     *
     * @param array<array-key, mixed> $existing
     * @param array<string, array{0: string, 1: string}> $new CODE => [NAME, VALUE]
     * @return array<array-key, mixed>
     */
    private static function withProps(array $existing, array $new): array
    {
        $keyed = $existing !== [] && !array_is_list($existing);
        $kept = array_filter($existing, fn ($p, $k): bool =>
            !str_starts_with((string) (\is_array($p) ? ($p['CODE'] ?? $k) : $k), 'TESSERA_'), ARRAY_FILTER_USE_BOTH);
        $sort = 1000;
        foreach ($new as $code => [$name, $value]) {
            $prop = ['NAME' => $name, 'CODE' => $code, 'VALUE' => $value, 'SORT' => $sort++];
            if ($keyed) {
                $kept[$code] = $prop;
            } else {
                $kept[] = $prop;
            }
        }
        return $keyed ? $kept : array_values($kept);
    }

    /**
     * "1234.50" -> [123450, 2]: a result's money (the library writes the
     * currency's minor digits exactly) as integer minor units.
     *
     * @return array{0: int, 1: int}
     */
    private static function minor(string $money): array
    {
        if (!preg_match('/^(-?)(\d+)(?:\.(\d+))?$/', $money, $m)) {
            throw new \UnexpectedValueException("not a money string: $money");
        }
        $frac = $m[3] ?? '';
        $v = (int) ($m[2] . $frac);
        return [$m[1] === '-' ? -$v : $v, \strlen($frac)];
    }

    private static function money(int $minor, int $digits): string
    {
        $sign = $minor < 0 ? '-' : '';
        $s = str_pad((string) abs($minor), $digits + 1, '0', STR_PAD_LEFT);
        return $digits === 0 ? $sign . $s : $sign . substr($s, 0, -$digits) . '.' . substr($s, -$digits);
    }

    /** The BasketError for a library OrderError about items[i], or null for an order-level one. */
    private function basketError(OrderError $e, array $rows): ?BasketError
    {
        if (!preg_match('/^items\[(\d+)\]/', (string) $e->getPath(), $m)) {
            return null;
        }
        $key = $this->priced($rows)[(int) $m[1]] ?? null;
        $row = $key === null ? [] : $rows[$key];
        return new BasketError($e->getDetail(), self::idOf($row), self::nameOf($row), $e->getPath(), $e);
    }

    /** ID, or BASKET_CODE ("n1") for a row not saved yet; null when it has neither. */
    private static function idOf(array $row): ?string
    {
        foreach (['ID', 'BASKET_CODE'] as $field) {
            $id = $row[$field] ?? null;
            if ($id !== null && $id !== '' && $id !== 0) {
                return (string) $id;
            }
        }
        return null;
    }

    private static function nameOf(array $row): ?string
    {
        return isset($row['NAME']) ? (string) $row['NAME'] : null;
    }
}
