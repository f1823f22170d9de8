<?php

declare(strict_types=1);

namespace Tessera\Tests;

use PHPUnit\Framework\TestCase;
use Tessera\Bitrix\Basket;
use Tessera\Bitrix\BasketError;
use Tessera\OrderError;
use Tessera\RuleSet;

/**
 * Tessera\Bitrix\Basket on baskets shaped as Bitrix hands them over
 * (fixtures/bitrix/: getFieldValues() rows, PROPS as a list or keyed by
 * CODE, strings from the database, floats from loaded objects).  Every
 * expected price comes from evaluating the equivalent order directly.
 */
final class BitrixBasketTest extends TestCase
{
    private static RuleSet $park;

    public static function setUpBeforeClass(): void
    {
        self::$park = RuleSet::fromFile(TestEnv::parkRules());
    }

    /** @return array<array-key, array<string, mixed>> */
    public static function fixture(string $name): array
    {
        $path = __DIR__ . "/fixtures/bitrix/$name.json";
        return json_decode(file_get_contents($path), true, 512, JSON_THROW_ON_ERROR)['rows'];
    }

    private static function basket(): Basket
    {
        return new Basket(self::$park, [
            'fields' => ['height_cm' => ['HEIGHT_CM', 'int'], 'event_start' => ['VISIT_START', 'string']],
        ]);
    }

    /** @return array<string, mixed> the order-level fields a shop passes in */
    private static function context(array $coupons = []): array
    {
        return [
            'id' => 'B-5501',
            'datetime' => new \DateTimeImmutable('2026-06-10 16:20', new \DateTimeZone('Europe/Moscow')),
            'channel' => 'web',
            'customer' => ['id' => '3307', 'member' => true, 'visits' => 2, 'points_balance' => 400,
                           'tags' => ['season_pass']],
            'promo_codes' => $coupons,
            'redeem_points' => 300,
        ];
    }

    /** The family-day basket written by hand as a Tessera order. */
    private static function handWrittenOrder(array $coupons = []): array
    {
        $visit = '2026-06-16T10:00:00+03:00';
        return self::context($coupons) + ['items' => [
            ['id' => '4101', 'kind' => 'ticket', 'quantity' => 2, 'sku' => 'PARK-DAY-ADULT', 'event_start' => $visit],
            ['id' => '4102', 'kind' => 'ticket', 'quantity' => 1, 'sku' => 'PARK-DAY-CHILD', 'event_start' => $visit,
             'height_cm' => 121],
            ['id' => '4103', 'kind' => 'fnb', 'quantity' => 3, 'sku' => 'COLA-05', 'price' => '150.00'],
            ['id' => '4104', 'kind' => 'merch', 'quantity' => 1, 'sku' => 'MUG-ISLAND', 'price' => '890.00'],
        ]];
    }

    public function testRowsBecomeAnOrderWithWholeQuantitiesAndExactPrices(): void
    {
        $order = self::basket()->toOrder(self::fixture('family-day'), self::context());
        $items = array_column($order['items'], null, 'id');
        // 4105 is put aside (DELAY = Y); ids are strings
        $this->assertSame(['4101', '4102', '4103', '4104'], array_column($order['items'], 'id'));
        $this->assertSame(2, $items['4101']['quantity']);
        $this->assertSame('ticket', $items['4101']['kind']);
        $this->assertArrayNotHasKey('price', $items['4101']);                     // tickets: the rule file's price
        $this->assertArrayNotHasKey('height_cm', $items['4101']);                 // no HEIGHT_CM property
        $this->assertSame(121, $items['4102']['height_cm']);
        $this->assertSame('2026-06-16T10:00:00+03:00', $items['4102']['event_start']);
        $this->assertSame('150.0000', $items['4103']['price']);                   // as stored, not a float
        $this->assertSame('COLA-05', $items['4103']['sku']);
        $this->assertArrayNotHasKey('category', $items['4101']);                  // no category map given
    }

    public function testPricingWritesTheSameFiguresAsTheOrderEvaluatedDirectly(): void
    {
        $rows = self::fixture('family-day');
        $untouched = $rows[4];
        $summary = self::basket()->price($rows, self::context(['SUMMER26']));
        $direct = self::$park->evaluate(self::handWrittenOrder(['SUMMER26']), trace: false);

        $this->assertSame($direct['totals'], $summary['totals']);
        $this->assertSame($direct['points'], $summary['points']);
        $this->assertSame('RUB', $summary['currency']);
        $this->assertSame($untouched, $rows[4], 'a row put aside is not written');
        foreach (array_slice($rows, 0, 4) as $row) {
            $line = array_column($direct['lines'], null, 'id')[(string) $row['ID']];
            $props = array_column($row['PROPS'], 'VALUE', 'CODE');
            $this->assertSame($line['unit_price'], $row['BASE_PRICE']);
            $this->assertSame('Y', $row['CUSTOM_PRICE']);
            $this->assertSame('RUB', $row['CURRENCY']);
            $this->assertSame($line['total'], $props['TESSERA_TOTAL']);
            $this->assertSame($line['redeemed']['value'], $props['TESSERA_POINTS_PAID']);
            $this->assertSame((string) $line['points_earned'], $props['TESSERA_POINTS']);
            $this->assertSame((string) $line['category'], $props['TESSERA_CATEGORY']);
            $this->assertSame(implode(', ', array_column($line['discounts'], 'id')), $props['TESSERA_DISCOUNTS']);
            // PRICE x QUANTITY is the line after discounts, less at most the
            // kopecks that do not divide by the quantity.
            $afterDiscounts = self::kopecks($line['subtotal'])
                - array_sum(array_map(fn ($d) => self::kopecks($d['amount']), $line['discounts']));
            $perUnit = self::kopecks($row['PRICE']);
            $quantity = (int) $row['QUANTITY'];
            $this->assertGreaterThanOrEqual(0, $afterDiscounts - $perUnit * $quantity);
            $this->assertLessThan($quantity, $afterDiscounts - $perUnit * $quantity);
            $this->assertSame(self::kopecks($row['BASE_PRICE']) - $perUnit, self::kopecks($row['DISCOUNT_PRICE']));
            $this->assertSame('Kind', $row['PROPS'][0]['NAME'], 'the shop\'s own properties stay first');
        }
        // The figures of this basket: the summer code's 200 off each ticket
        // beats the season-pass 10 % on the child ticket (1800: 180), loses
        // on the adult ones (2500: 250); happy hour and the shop discount.
        $byId = array_column($rows, null, 'ID');
        $this->assertSame(['2500.00', '2250.00', '250.00'],
                          [$byId[4101]['BASE_PRICE'], $byId[4101]['PRICE'], $byId[4101]['DISCOUNT_PRICE']]);
        $this->assertSame(['1800.00', '1600.00'], [$byId[4102]['BASE_PRICE'], $byId[4102]['PRICE']]);
        $this->assertSame(['accepted', null, 'summer'], array_values($summary['coupons']['SUMMER26']));
    }

    public function testRepricingAPricedBasketGivesTheSameFigures(): void
    {
        $rows = self::fixture('family-day');
        $first = self::basket()->price($rows, self::context());
        $once = $rows;
        $second = self::basket()->price($rows, self::context());
        $this->assertSame($once, $rows);
        $this->assertSame($first['totals'], $second['totals']);
        $this->assertCount(1, array_filter($rows[0]['PROPS'], fn ($p) => $p['CODE'] === 'TESSERA_TOTAL'));
    }

    public function testFractionalQuantityIsRefusedNamingTheBasketItem(): void
    {
        $rows = self::fixture('d7-objects');
        $rows[2]['CAN_BUY'] = 'Y';                            // fudge by weight: 0.35 kg
        $before = $rows;
        try {
            self::basket()->price($rows, self::context());
            $this->fail('priced');
        } catch (BasketError $e) {
            $this->assertSame('5121', $e->getBasketItemId());
            $this->assertSame('Fudge by weight', $e->getBasketItemName());
            $this->assertSame('items[2].quantity', $e->getPath());
            $this->assertStringStartsWith("basket item 5121 (Fudge by weight): items[2].quantity: QUANTITY '0.3500'",
                                          $e->getMessage());
            $this->assertInstanceOf(OrderError::class, $e);
            $this->assertSame(-7, $e->getCode());
        }
        $this->assertSame($before, $rows, 'nothing is written when the basket is refused');
        foreach (['1.5000', 2.5, '2,0000', '', 'two'] as $q) {
            $rows[0]['QUANTITY'] = $q;
            try {
                self::basket()->toOrder($rows);
                $this->fail('accepted QUANTITY ' . var_export($q, true));
            } catch (BasketError $e) {
                $this->assertSame('5120', $e->getBasketItemId());
            }
        }
    }

    public function testLibraryErrorsAboutAnItemNameTheBasketItem(): void
    {
        $rows = self::fixture('family-day');
        $rows[1]['PROPS'][1]['VALUE'] = '2026-06-13 10:00';   // VISIT_START without its offset
        try {
            self::basket()->price($rows, self::context());
            $this->fail('priced');
        } catch (BasketError $e) {
            $this->assertSame('4102', $e->getBasketItemId());
            $this->assertSame('items[1].event_start', $e->getPath());
            $this->assertInstanceOf(OrderError::class, $e->getPrevious());
            $this->assertSame($e->getPrevious()->getDetail(), $e->getDetail());
            $this->assertStringStartsWith('basket item 4102 (Day ticket, child 100-129 cm): items[1].event_start: ',
                                          $e->getMessage());
        }
        $rows = self::fixture('family-day');
        $rows[2]['BASE_PRICE'] = '150.0050';                  // finer than the kopeck
        try {
            self::basket()->price($rows, self::context());
            $this->fail('priced');
        } catch (BasketError $e) {
            $this->assertSame(['4103', 'items[2].price'], [$e->getBasketItemId(), $e->getPath()]);
        }
    }

    public function testOrderLevelErrorsStayOrderErrors(): void
    {
        $rows = self::fixture('family-day');
        $context = self::context();
        $context['customer']['visits'] = 'two';
        try {
            self::basket()->price($rows, $context);
            $this->fail('priced');
        } catch (OrderError $e) {
            $this->assertNotInstanceOf(BasketError::class, $e);
            $this->assertSame('customer.visits', $e->getPath());
        }
    }

    public function testD7FloatsBasketCodesAndPropsKeyedByCode(): void
    {
        $rows = self::fixture('d7-objects');
        $order = self::basket()->toOrder($rows, self::context());
        $this->assertSame(['5120', 'n1'], array_column($order['items'], 'id'));   // fudge: CAN_BUY = N
        $this->assertSame('150.1000', $order['items'][0]['price']);
        $this->assertSame(2, $order['items'][0]['quantity']);
        $this->assertSame(112, $order['items'][1]['height_cm']);

        self::basket()->price($rows, self::context());
        $this->assertSame('150.10', $rows[0]['BASE_PRICE']);
        $this->assertSame(['KIND', 'VISIT_START', 'HEIGHT_CM', 'TESSERA_CATEGORY', 'TESSERA_DISCOUNTS', 'TESSERA_TOTAL',
                           'TESSERA_POINTS_PAID', 'TESSERA_POINTS'], array_keys($rows[1]['PROPS']));
        $this->assertSame('child', $rows[1]['PROPS']['TESSERA_CATEGORY']['VALUE']);
        $this->assertSame('1200.0000', $rows[2]['BASE_PRICE'], 'a row not for sale is not written');
    }

    public function testCouponStatusesByCode(): void
    {
        $rows = self::fixture('family-day');
        $summary = self::basket()->price($rows, self::context(['doc-123456', 'SUMMER26', 'NOPE-1']));
        $this->assertSame(['DOC-123456', 'SUMMER26', 'NOPE-1'], array_keys($summary['coupons']));
        $this->assertSame('accepted', $summary['coupons']['DOC-123456']['STATUS']);
        $this->assertSame('doctors', $summary['coupons']['DOC-123456']['RULE']);
        $this->assertSame(['rejected', 'not_combinable'],
                          [$summary['coupons']['SUMMER26']['STATUS'], $summary['coupons']['SUMMER26']['REASON']]);
        $this->assertSame(['rejected', 'unknown', null], array_values($summary['coupons']['NOPE-1']));
        $this->assertStringContainsString('doctors-99', array_column($rows[0]['PROPS'], 'VALUE', 'CODE')['TESSERA_DISCOUNTS']);
    }

    public function testAResultOfAnotherBasketIsRefused(): void
    {
        $rows = self::fixture('family-day');
        $before = $rows;
        $result = self::$park->evaluate(self::handWrittenOrder());
        unset($result['lines'][3]);                          // no line for 4104
        try {
            self::basket()->apply($rows, $result);
            $this->fail('applied');
        } catch (\InvalidArgumentException $e) {
            $this->assertStringContainsString('4104', $e->getMessage());
        }
        $this->assertSame($before, $rows, 'no row is written when one cannot be');
    }

    public function testAnUnknownMapKeyIsRefused(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        new Basket(self::$park, ['feilds' => []]);
    }

    private static function kopecks(string $money): int
    {
        [$units, $cents] = explode('.', $money);
        return (int) $units * 100 + (int) $cents;
    }
}
