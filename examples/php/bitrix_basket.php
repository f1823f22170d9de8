<?php

/*
 * A Bitrix shop's basket priced by Tessera, through Tessera\Bitrix\Basket:
 * the rows as the sale module hands them over (BasketItem::getFieldValues()
 * with PROPS), priced by the park's rule file, with line prices, discounts,
 * points and coupon statuses written back.  In a Bitrix module the same
 * calls sit in an OnSaleBasketBeforeSaved handler (docs/php.md shows it).
 *
 *   php -d extension=build/bindings/php/tessera.so examples/php/bitrix_basket.php
 *
 * With the php-tessera package the extension is enabled already and the
 * classes are found with require_once 'Tessera/autoload.php'.
 */

declare(strict_types=1);

require getenv('TESSERA_PHP_AUTOLOAD') ?: __DIR__ . '/../../bindings/php/autoload.php';

use Tessera\Bitrix\Basket;
use Tessera\Bitrix\BasketError;

// Loaded once per worker (immutable, reusable).
$rules = Tessera\RuleSet::fromFile(__DIR__ . '/../../rules/park/park.yaml');
// How this shop's basket properties map to the rule file's schema.
$basket = new Basket($rules, [
    'kind' => 'KIND',
    'fields' => ['height_cm' => ['HEIGHT_CM', 'int'], 'event_start' => ['VISIT_START', 'string']],
    // The ticket type the buyer picked in the shop goes through as the line's
    // category: the rule file says which an order may name (`selectable`).
    'category' => 'TICKET_TYPE',
]);

// --- a basket as Bitrix hands it over: integer IDs, strings from the database ----
$row = fn (int $id, string $xmlId, string $name, string $quantity, string $price, array $props): array => [
    'ID' => $id, 'FUSER_ID' => 3307, 'ORDER_ID' => null, 'PRODUCT_ID' => $id - 3300,
    'PRODUCT_XML_ID' => $xmlId, 'NAME' => $name, 'MODULE' => 'catalog',
    'QUANTITY' => $quantity, 'BASE_PRICE' => $price, 'PRICE' => $price, 'DISCOUNT_PRICE' => '0.0000',
    'CURRENCY' => 'RUB', 'CUSTOM_PRICE' => 'N', 'CAN_BUY' => 'Y', 'DELAY' => 'N',
    'PROPS' => array_map(fn ($code, $value) => ['NAME' => $code, 'CODE' => $code, 'VALUE' => $value],
                         array_keys($props), $props),
];
$visit = '2026-06-16T10:00:00+03:00';
$rows = [
    $row(4101, 'PARK-DAY', 'Day ticket', '2.0000', '2500.0000', ['KIND' => 'ticket', 'VISIT_START' => $visit]),
    $row(4102, 'PARK-DAY', 'Day ticket', '1.0000', '2500.0000',
         ['KIND' => 'ticket', 'VISIT_START' => $visit, 'HEIGHT_CM' => '121']),
    $row(4105, 'PARK-DAY', 'Day ticket', '1.0000', '2500.0000',
         ['KIND' => 'ticket', 'VISIT_START' => $visit, 'HEIGHT_CM' => '168', 'TICKET_TYPE' => 'concession']),
    $row(4103, 'COLA-05', 'Cola 0.5 l', '3.0000', '150.0000', ['KIND' => 'fnb']),
    $row(4104, 'MUG', 'Island Park mug', '1.0000', '890.0000', ['KIND' => 'merch']),
];
// The order-level part comes from the shop: the buyer (their UF_ fields),
// the coupons entered (DiscountCouponsManager::get()), points to spend.
$order = [
    'id' => 'B-5501',
    'datetime' => new DateTimeImmutable('2026-06-10 16:20', new DateTimeZone('Europe/Moscow')),
    'channel' => 'web',
    'customer' => ['id' => '3307', 'member' => true, 'visits' => 2, 'points_balance' => 400,
                   'tags' => ['season_pass']],
    'promo_codes' => ['summer26', 'NOPE-1'],
    'redeem_points' => 300,
];

$summary = $basket->price($rows, $order);

foreach ($rows as $r) {
    $props = array_column($r['PROPS'], 'VALUE', 'CODE');
    printf("%-4d %-16s %d x %8s (base %8s, %7s off)  %-9s points paid %6s  to pay %8s  +%s points  %s\n",
           $r['ID'], $r['NAME'], (int) $r['QUANTITY'], $r['PRICE'], $r['BASE_PRICE'], $r['DISCOUNT_PRICE'],
           $props['TESSERA_CATEGORY'] ?: '-', $props['TESSERA_POINTS_PAID'], $props['TESSERA_TOTAL'],
           $props['TESSERA_POINTS'], $props['TESSERA_DISCOUNTS']);
}
printf("due %s %s (subtotal %s, discounts %s, paid with points %s); points earned %d, redeemed %d\n",
       $summary['totals']['due'], $summary['currency'], $summary['totals']['subtotal'],
       $summary['totals']['discount'], $summary['totals']['redeemed_value'],
       $summary['points']['earned'], $summary['points']['redeemed']);
foreach ($summary['coupons'] as $code => $c) {
    printf("coupon %s: %s%s\n", $code, $c['STATUS'], $c['REASON'] ? " ({$c['REASON']})" : '');
}

// Sweets sold by weight: 0.35 kg is not a whole unit, and the error names the row.
$withFudge = $rows;
$withFudge[] = $row(4105, 'FUDGE-KG', 'Fudge by weight', '0.3500', '1200.0000', ['KIND' => 'fnb']);
try {
    $basket->price($withFudge, $order);
} catch (BasketError $e) {
    printf("cannot price basket item %s: %s\n", $e->getBasketItemId(), $e->getMessage());
}

// A ticket type the rules assign themselves: an edited basket never chooses
// its price (a free `toddler` ticket for an adult is refused, naming the row).
$edited = $rows;
$edited[2]['PROPS'][3]['VALUE'] = 'toddler';
try {
    $basket->price($edited, $order);
} catch (BasketError $e) {
    printf("cannot price basket item %s: %s\n", $e->getBasketItemId(), $e->getMessage());
}

// A property the rules refuse: the library's path leads back to the row.
$broken = $rows;
$broken[1]['PROPS'][1]['VALUE'] = '2026-06-16 10:00';     // VISIT_START without its offset
try {
    $basket->price($broken, $order);
} catch (BasketError $e) {
    printf("cannot price basket item %s: %s\n", $e->getBasketItemId(), $e->getMessage());
}
