<?php

declare(strict_types=1);

namespace Tessera\Tests;

use PHPUnit\Framework\TestCase;
use Tessera\ReceiptError;
use Tessera\RuleSet;

/** Taxes pass through the wrapper: line tax, totals.tax, the per-rate summary, refund tax. */
final class TaxTest extends TestCase
{
    // A US-style sales tax of 8.875 % added on top; gift cards carry none.
    private const SHOP = <<<'YAML'
        tessera: 1
        ruleset: corner-shop
        currency: USD
        refunds: { allowed: "true" }
        taxes:
          prices: exclusive
          rates: [{ id: sales, for: item.kind != "gift_card", rate: 8.875 }]
        YAML;

    private static RuleSet $shop;

    public static function setUpBeforeClass(): void
    {
        self::$shop = RuleSet::fromString(self::SHOP, 'shop.yaml');
    }

    private static function order(): array
    {
        return [
            'id' => 'S-1',
            'datetime' => '2026-06-10T11:00:00-04:00',
            'items' => [
                ['id' => 'a', 'kind' => 'book', 'price' => '19.99'],
                ['id' => 'b', 'kind' => 'pen', 'price' => '4.50', 'quantity' => 3],
                ['id' => 'c', 'kind' => 'gift_card', 'price' => '25.00'],
            ],
        ];
    }

    public function testTaxPerLineTotalsAndRates(): void
    {
        $result = self::$shop->evaluate(self::order());
        // 19.99 × 8.875 % = 1.774… -> 1.77; 13.50 × 8.875 % = 1.198… -> 1.20
        $this->assertSame(['id' => 'sales', 'rate' => '8.875', 'amount' => '1.77'], $result['lines'][0]['tax']);
        $this->assertSame('1.20', $result['lines'][1]['tax']['amount']);
        $this->assertNull($result['lines'][2]['tax']);
        $this->assertSame('19.99', $result['lines'][0]['total']);   // exclusive: totals stay net
        $t = $result['totals'];
        $this->assertSame('2.97', $t['tax']);
        $this->assertSame('61.46', $t['due']);
        $this->assertSame($t['due'], bcadd(bcsub(bcsub($t['subtotal'], $t['discount'], 2),
                                                 $t['redeemed_value'], 2), $t['tax'], 2));
        $this->assertSame([['id' => 'sales', 'rate' => '8.875', 'base' => '33.49', 'amount' => '2.97']],
                          $result['taxes']);
    }

    public function testRefundReportsTheTaxItContains(): void
    {
        $order = self::order();
        $receipt = self::$shop->evaluate($order);
        $refund = self::$shop->refund($order, $receipt, ['a'], '2026-06-11T10:00:00-04:00');
        // the book cost 19.99 + 1.77 = 21.76, which contains 21.76 × 8.875 / 108.875 = 1.7737… -> 1.77
        $this->assertSame('21.76', $refund['lines'][0]['amount']);
        $this->assertSame('1.77', $refund['lines'][0]['tax']['amount']);
        $this->assertSame('1.77', $refund['totals']['tax']);
    }

    public function testAReceiptWithAWrongTaxIsRefused(): void
    {
        $order = self::order();
        $receipt = self::$shop->evaluate($order);
        $receipt['lines'][1]['tax']['amount'] = '1.19';
        try {
            self::$shop->refund($order, $receipt, ['a'], '2026-06-11T10:00:00-04:00');
            $this->fail('a receipt whose tax does not add up was accepted');
        } catch (ReceiptError $e) {
            $this->assertSame('receipt.totals.tax', $e->getPath());
            $this->assertStringContainsString('2.96', $e->getMessage());
        }
    }
}
