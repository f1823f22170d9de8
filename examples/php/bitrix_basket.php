<?php

/*
 * A Bitrix-style basket handler: takes the basket array a PHP shop holds,
 * prices it with Tessera, and writes the line prices, discounts and points
 * back into the basket.  Copy TesseraBasketHandler into your shop (in
 * Bitrix: call it from an OnSaleBasketBeforeSaved / OnBeforeSaleOrderFinalAction
 * handler with the basket's getFieldValues() rows).
 *
 *   php -d extension=build/bindings/php/tessera.so examples/php/bitrix_basket.php
 *
 * Bitrix keeps prices as floats; Tessera never does: money crosses as
 * decimal strings and is written back from integer minor units, converted
 * with bcmath (Debian: php-bcmath).  Nothing
 * about prices is decided here: the rule file decides, in the C library.
 * The ticket type a customer picks in the shop (the TICKET_TYPE property,
 * e.g. `concession`) is passed through as the line's `category`: the rule
 * file declares which types an order may name (`selectable: true`) and
 * checks each against the line, so a customer who edits the basket cannot
 * choose a price (a `toddler` ticket for an adult is refused, with the row).
 */

declare(strict_types=1);

// With Composer: require 'vendor/autoload.php';
require getenv('TESSERA_PHP_AUTOLOAD') ?: __DIR__ . '/../../bindings/php/autoload.php';

final class TesseraBasketHandler
{
    /** @param \Tessera\RuleSet $rules loaded once per worker (immutable, reusable) */
    public function __construct(private \Tessera\RuleSet $rules)
    {
    }

    /**
     * Price $basket in place.  Each row gets BASE_PRICE (unit price before
     * discounts), DISCOUNT_PRICE (discount per unit), PRICE (one unit after
     * discounts), CUSTOM_PRICE = 'Y' (the price was set here, the catalog
     * must not reprice it), and PROPS TESSERA_DISCOUNTS (which discounts
     * applied), TESSERA_POINTS_PAID (the value paid on the line with points:
     * in Bitrix an inner payment from the bonus account, not a discount),
     * TESSERA_TOTAL (the exact figure left to pay for the line) and
     * TESSERA_POINTS (points earned on it).  Returns the order-level part of
     * the result: totals, points, promo-code statuses, offers.
     *
     * @param list<array<string, mixed>> $basket Bitrix basket rows
     * @param array<string, mixed> $user the buyer (ID, IS_MEMBER, VISITS, BONUS_BALANCE, GROUP_TAGS)
     * @param list<string> $coupons coupons entered at checkout
     * @throws \Tessera\OrderError with getPath() mapped back by basketRowOf()
     */
    public function price(array &$basket, array $user, array $coupons, int $redeemPoints,
                          \DateTimeInterface $now, string $orderId): array
    {
        $result = $this->rules->evaluate($this->order($basket, $user, $coupons, $redeemPoints, $now, $orderId),
                                         trace: false);
        $lines = array_column($result['lines'], null, 'id');
        foreach ($basket as &$row) {
            $line = $lines[(string) $row['ID']];
            $quantity = (int) $line['quantity'];
            $unit = self::minor($line['unit_price']);
            $afterDiscounts = self::minor($line['subtotal'])
                - array_sum(array_map(fn (array $d): int => self::minor($d['amount']), $line['discounts']));
            // Bitrix stores a price per unit; a line total that does not divide by
            // the quantity keeps its last kopecks in TESSERA_TOTAL, the figure to charge.
            $row['BASE_PRICE'] = self::money($unit);
            $row['PRICE'] = self::money(intdiv($afterDiscounts, $quantity));
            $row['DISCOUNT_PRICE'] = self::money($unit - intdiv($afterDiscounts, $quantity));
            $row['CUSTOM_PRICE'] = 'Y';
            $row['CURRENCY'] = $result['currency'];
            $row['PROPS'] = array_values(array_filter($row['PROPS'] ?? [],
                fn (array $p): bool => !str_starts_with($p['CODE'], 'TESSERA_')));
            $row['PROPS'][] = ['CODE' => 'TESSERA_DISCOUNTS',
                               'VALUE' => implode(', ', array_column($line['discounts'], 'id'))];
            $row['PROPS'][] = ['CODE' => 'TESSERA_POINTS_PAID', 'VALUE' => $line['redeemed']['value']];
            $row['PROPS'][] = ['CODE' => 'TESSERA_TOTAL', 'VALUE' => $line['total']];
            $row['PROPS'][] = ['CODE' => 'TESSERA_POINTS', 'VALUE' => (string) $line['points_earned']];
        }
        unset($row);
        return ['totals' => $result['totals'], 'points' => $result['points'],
                'promo_codes' => $result['promo_codes'], 'offers' => $result['offers']];
    }

    /** The basket row an OrderError's path (items[2].price) is about, or null. */
    public static function basketRowOf(\Tessera\OrderError $e, array $basket): ?array
    {
        return preg_match('/^items\[(\d+)\]/', (string) $e->getPath(), $m) ? ($basket[(int) $m[1]] ?? null) : null;
    }

    private function order(array $basket, array $user, array $coupons, int $redeemPoints,
                           \DateTimeInterface $now, string $orderId): array
    {
        $items = [];
        foreach ($basket as $row) {
            $props = array_column($row['PROPS'] ?? [], 'VALUE', 'CODE');
            $item = ['id' => (string) $row['ID'], 'kind' => $props['KIND'] ?? 'merch',
                     'sku' => (string) $row['PRODUCT_XML_ID'], 'quantity' => (int) $row['QUANTITY']];
            if ($item['kind'] === 'ticket') {
                $item['height_cm'] = (int) $props['HEIGHT_CM'];
                $item['event_start'] = $props['VISIT_START'];
                if (($props['TICKET_TYPE'] ?? '') !== '') {
                    // the type the customer chose; the rules accept it or refuse the order
                    $item['category'] = (string) $props['TICKET_TYPE'];
                }
            } else {
                // the shop's catalog price, a float in Bitrix: sent as an exact decimal string
                $item['price'] = number_format((float) $row['BASE_PRICE'], 2, '.', '');
            }
            $items[] = $item;
        }
        return [
            'id' => $orderId,
            'datetime' => $now,
            'channel' => 'web',
            'customer' => ['id' => (string) $user['ID'], 'member' => $user['IS_MEMBER'] === 'Y',
                           'visits' => (int) $user['VISITS'], 'points_balance' => (int) $user['BONUS_BALANCE'],
                           'tags' => $user['GROUP_TAGS']],
            'items' => $items,
            'promo_codes' => $coupons,
            'redeem_points' => $redeemPoints,
        ];
    }

    /** "1234.50" -> 123450: the currency's minor units, exactly (bcmath, never float). */
    private static function minor(string $money): int
    {
        return (int) bcmul($money, '100', 0);
    }

    private static function money(int $minor): float
    {
        return $minor / 100;   // Bitrix's own float fields; exact figures stay in PROPS
    }
}

// --- a basket as the shop holds it -------------------------------------------------

$rules = \Tessera\RuleSet::fromFile(__DIR__ . '/../../rules/park/park.yaml');
$handler = new TesseraBasketHandler($rules);
$tz = new DateTimeZone('Europe/Moscow');
$ticket = fn (int $id, int $height, string $type = ''): array => [
    'ID' => $id, 'PRODUCT_XML_ID' => 'PARK-DAY', 'NAME' => $type === '' ? 'Day ticket' : "Day ticket ($type)",
    'QUANTITY' => 1.0, 'BASE_PRICE' => 0.0, 'PRICE' => 0.0, 'CURRENCY' => 'RUB',
    'PROPS' => [['CODE' => 'KIND', 'VALUE' => 'ticket'], ['CODE' => 'HEIGHT_CM', 'VALUE' => (string) $height],
                ['CODE' => 'VISIT_START', 'VALUE' => '2026-06-13T10:00:00+03:00'],
                ['CODE' => 'TICKET_TYPE', 'VALUE' => $type]],
];
$basket = [
    $ticket(101, 182),
    $ticket(102, 121),
    $ticket(105, 168, 'concession'),
    ['ID' => 103, 'PRODUCT_XML_ID' => 'COLA-05', 'NAME' => 'Cola 0.5 l', 'QUANTITY' => 3.0,
     'BASE_PRICE' => 150.0, 'PRICE' => 150.0, 'CURRENCY' => 'RUB',
     'PROPS' => [['CODE' => 'KIND', 'VALUE' => 'fnb']]],
    ['ID' => 104, 'PRODUCT_XML_ID' => 'MUG', 'NAME' => 'Island Park mug', 'QUANTITY' => 1.0,
     'BASE_PRICE' => 890.0, 'PRICE' => 890.0, 'CURRENCY' => 'RUB', 'PROPS' => [['CODE' => 'KIND', 'VALUE' => 'merch']]],
];
$user = ['ID' => 77, 'IS_MEMBER' => 'Y', 'VISITS' => 2, 'BONUS_BALANCE' => 400, 'GROUP_TAGS' => ['season_pass']];

$summary = $handler->price($basket, $user, ['DOC-123456'], 300,
                           new DateTimeImmutable('2026-06-10 16:20', $tz), 'B-5501');

foreach ($basket as $row) {
    $props = array_column($row['PROPS'], 'VALUE', 'CODE');
    printf("%-4d %-24s %d x %7.2f (base %7.2f, %7.2f off)  points paid %6s  to pay %7s  +%d points  %s\n",
           $row['ID'], $row['NAME'], $row['QUANTITY'], $row['PRICE'], $row['BASE_PRICE'],
           $row['DISCOUNT_PRICE'], $props['TESSERA_POINTS_PAID'], $props['TESSERA_TOTAL'],
           $props['TESSERA_POINTS'], $props['TESSERA_DISCOUNTS']);
}
printf("due %s RUB (subtotal %s, discounts %s, paid with points %s); points earned %d, redeemed %d\n",
       $summary['totals']['due'], $summary['totals']['subtotal'], $summary['totals']['discount'],
       $summary['totals']['redeemed_value'], $summary['points']['earned'], $summary['points']['redeemed']);
foreach ($summary['promo_codes'] as $code) {
    printf("coupon %s: %s%s\n", $code['code'], $code['status'], isset($code['reason']) ? " ({$code['reason']})" : '');
}

// A row the rules refuse: the error's JSON path leads back to the basket row.
$broken = $basket;
$broken[1]['PROPS'][2]['VALUE'] = '2026-06-13 10:00';    // VISIT_START without its offset
try {
    $handler->price($broken, $user, [], 0, new DateTimeImmutable('2026-06-10 16:20', $tz), 'B-5502');
} catch (\Tessera\OrderError $e) {
    $row = TesseraBasketHandler::basketRowOf($e, $broken);
    printf("cannot price basket row %s (%s): %s\n", $row['ID'] ?? '?', $row['NAME'] ?? '?', $e->getMessage());
}

// A ticket type the customer may not choose: a free toddler's ticket for an adult.
$edited = $basket;
$edited[0]['PROPS'][3]['VALUE'] = 'toddler';
try {
    $handler->price($edited, $user, [], 0, new DateTimeImmutable('2026-06-10 16:20', $tz), 'B-5503');
} catch (\Tessera\OrderError $e) {
    $row = TesseraBasketHandler::basketRowOf($e, $edited);
    printf("cannot price basket row %s (%s): %s\n", $row['ID'] ?? '?', $row['NAME'] ?? '?', $e->getMessage());
}
