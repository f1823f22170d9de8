<?php

declare(strict_types=1);

namespace Tessera\Tests;

use PHPUnit\Framework\TestCase;
use Tessera\EvaluationError;
use Tessera\OrderError;
use Tessera\RuleSet;

/** Evaluating orders: arrays in and out, PHP values, errors with paths. */
final class EvaluateTest extends TestCase
{
    private static RuleSet $park;

    public static function setUpBeforeClass(): void
    {
        self::$park = RuleSet::fromFile(TestEnv::parkRules());
    }

    public function testEvaluateReturnsTheResultArray(): void
    {
        $result = self::$park->evaluate(TestEnv::parkOrder());
        $this->assertSame(['id' => 'island-park', 'version' => self::$park->version()], $result['ruleset']);
        $this->assertSame('A-1001', $result['order']);
        $lines = array_column($result['lines'], null, 'id');
        $this->assertSame('child', $lines['t1']['category']);
        $this->assertSame('2200.00', $lines['t1']['unit_price']);
        $this->assertSame('300.00', $lines['f1']['total']);
        $this->assertIsInt($result['points']['earned']);
        $this->assertNotEmpty($result['trace']);
    }

    public function testResultEqualsTheCliJson(): void
    {
        $order = TestEnv::parkOrder();
        $cli = TestEnv::cli($this, ['eval', TestEnv::parkRules(), '-'], TestEnv::json($order));
        $this->assertSame(0, $cli['status'], $cli['stderr']);
        $this->assertSame(json_decode($cli['stdout'], true), self::$park->evaluate($order));
        $this->assertSame(rtrim($cli['stdout'], "\n"), self::$park->evaluateJson(TestEnv::json($order)));
    }

    /** The documented way to do sums with the result's money: bcmath (php-bcmath). */
    public function testMoneyStringsAddUpWithBcmath(): void
    {
        $this->assertTrue(extension_loaded('bcmath'),
            'ext-bcmath is missing: docs/php.md recommends it (Debian: php-bcmath, .ci/install-deps)');
        $order = TestEnv::parkOrder();
        $order['redeem_points'] = 300;
        $result = self::$park->evaluate($order);
        $t = $result['totals'];
        $due = '0.00';
        foreach ($result['lines'] as $line) {
            $due = bcadd($due, $line['total'], 2);
        }
        $this->assertSame($t['due'], $due);
        $this->assertSame($t['due'], bcsub(bcsub($t['subtotal'], $t['discount'], 2), $t['redeemed_value'], 2));
        $this->assertSame('300.00', $t['redeemed_value']);
    }

    public function testOptionsTraceAndCustomerSafe(): void
    {
        $order = TestEnv::parkOrder();
        $order['promo_codes'] = ['NOPE-1'];
        $this->assertSame([], self::$park->evaluate($order, trace: false)['trace']);
        $this->assertSame('unknown', self::$park->evaluate($order)['promo_codes'][0]['reason']);
        $this->assertSame('not_applicable',
            self::$park->evaluate($order, customerSafe: true)['promo_codes'][0]['reason']);
    }

    public function testDateTimeObjectsAreSentWithTheirOffset(): void
    {
        $order = TestEnv::parkOrder();
        $typed = $order;
        $typed['datetime'] = new \DateTimeImmutable('2026-06-10 11:00:00', new \DateTimeZone('Europe/Moscow'));
        $typed['items'][0]['event_start'] = new \DateTime('2026-06-13 07:00:00', new \DateTimeZone('UTC'));
        $order['items'][0]['event_start'] = '2026-06-13T07:00:00+00:00';
        $this->assertSame(self::$park->evaluate($order), self::$park->evaluate($typed));
    }

    public function testEmptyMapsAndGappyListsKeepTheirJsonShape(): void
    {
        $order = TestEnv::parkOrder();
        $order['promo_uses'] = [];                               // a map, even empty
        $order['customer']['tags'] = [3 => 'season_pass'];       // a list, after array_filter
        $order['items'] = array_filter($order['items'], fn ($i) => $i['id'] !== 't2');
        $result = self::$park->evaluate($order);
        $this->assertSame(['t1', 'f1'], array_column($result['lines'], 'id'));
        $this->assertContains('season_pass', $result['segments']);
    }

    public function testAnEmptyItemIsAnObjectAndTheLibraryNamesIt(): void
    {
        $order = TestEnv::parkOrder();
        $order['items'][1] = [];
        try {
            self::$park->evaluate($order);
            $this->fail('evaluated');
        } catch (OrderError $e) {
            $this->assertStringStartsWith('items[1]', (string) $e->getPath());
            $this->assertStringNotContainsString('list', $e->getDetail());
        }
    }

    public function testMoneyStaysExactDecimalStrings(): void
    {
        $order = TestEnv::parkOrder();
        $order['items'][2]['price'] = 150.0;                     // a float with a zero fraction
        $result = self::$park->evaluate($order);
        $this->assertSame('150.00', $result['lines'][2]['unit_price']);
        foreach ($result['totals'] as $value) {
            $this->assertIsString($value);
        }
        $order['items'][2]['price'] = '150.005';
        try {
            self::$park->evaluate($order);
            $this->fail('evaluated');
        } catch (OrderError $e) {
            $this->assertSame('items[2].price', $e->getPath());
        }
    }

    public function testATicketTypePassedThroughIsASelectableCategory(): void
    {
        $order = TestEnv::parkOrder();
        $order['items'][1]['category'] = 'concession';          // the park's only selectable type
        $lines = array_column(self::$park->evaluate($order)['lines'], null, 'id');
        $this->assertSame('concession', $lines['t2']['category']);
        $this->assertSame('2300.00', $lines['t2']['unit_price']);
    }

    /** @return array<string, array{int, string, string}> */
    public static function chosenCategories(): array
    {
        return [
            'a free ticket for an adult' => [1, 'toddler', 'category "toddler" is not selectable'],
            'a free cafe line' => [2, 'toddler', 'category "toddler" is not selectable'],
            'a concession for a child' => [0, 'concession', 'its `when` does not hold'],
            'an unknown type' => [1, 'vip', 'unknown category "vip"'],
        ];
    }

    /** @dataProvider chosenCategories */
    public function testAnOrderNeverChoosesItsOwnPrice(int $line, string $category, string $message): void
    {
        $order = TestEnv::parkOrder();
        $order['items'][$line]['category'] = $category;
        try {
            self::$park->evaluate($order);
            $this->fail('evaluated');
        } catch (OrderError $e) {
            $this->assertSame("items[$line].category", $e->getPath());
            $this->assertStringContainsString($message, $e->getDetail());
        }
    }

    public function testDuplicateLineIdIsAnOrderErrorAtItems1Id(): void
    {
        $order = TestEnv::parkOrder();
        $order['items'][1]['id'] = 't1';
        try {
            self::$park->evaluate($order);
            $this->fail('evaluated');
        } catch (OrderError $e) {
            $this->assertSame('items[1].id', $e->getPath());
            $this->assertSame(-7, $e->getCode());                // TSR_EORDER
            $this->assertNull($e->getRuleFile());
            $this->assertNull($e->getRuleLine());
            $this->assertSame('items[1].id: ' . $e->getDetail(), $e->getMessage());
            $cli = TestEnv::cli($this, ['eval', TestEnv::parkRules(), '-'], TestEnv::json($order));
            $this->assertSame(2, $cli['status']);
            $this->assertStringContainsString($e->getDetail(), $cli['stderr']);
            $this->assertStringContainsString('items[1].id', $cli['stderr']);
        }
    }

    public function testWrongTypeIsAnOrderErrorAtItsPath(): void
    {
        $order = TestEnv::parkOrder();
        $order['customer']['visits'] = 'three';
        $this->expectException(OrderError::class);
        try {
            self::$park->evaluate($order);
        } catch (OrderError $e) {
            $this->assertSame('customer.visits', $e->getPath());
            throw $e;
        }
    }

    public function testMalformedJsonIsAnOrderError(): void
    {
        $this->expectException(OrderError::class);
        self::$park->evaluateJson('{"datetime": ');
    }

    public function testUnencodableValueIsAnOrderError(): void
    {
        $order = TestEnv::parkOrder();
        $order['items'][2]['sku'] = "\xff\xfe";                 // not UTF-8
        $this->expectException(OrderError::class);
        self::$park->evaluate($order);
    }

    public function testOverflowIsAnEvaluationError(): void
    {
        $rs = RuleSet::fromString(<<<'YAML'
            tessera: 1
            ruleset: overflow
            version: "1"
            currency: EUR
            schema:
              item: { n: int }
            categories:
              - id: big
                for: item.kind == "ticket"
                when: item.n * 1000000000 > 5
                price: 10.00

            YAML, 'overflow.yaml');
        try {
            $rs->evaluate(['datetime' => '2026-06-10T11:00:00+03:00',
                           'items' => [['id' => 't1', 'kind' => 'ticket', 'n' => 9000000000000000]]]);
            $this->fail('evaluated');
        } catch (EvaluationError $e) {
            $this->assertSame(-11, $e->getCode());               // TSR_EEVAL
            $this->assertStringContainsString('overflow', $e->getDetail());
            $this->assertNotInstanceOf(OrderError::class, $e);
        }
    }
}
