<?php

declare(strict_types=1);

namespace Tessera\Tests;

use PHPUnit\Framework\TestCase;
use Tessera\OrderError;
use Tessera\ReceiptError;
use Tessera\RuleSet;

/** Refunds through the wrapper: the C library's tsr_refund, request built from arrays. */
final class RefundTest extends TestCase
{
    private const BEFORE_THE_VISIT = '2026-06-11T10:00:00+03:00';   // tickets are for 2026-06-13

    private static RuleSet $park;

    public static function setUpBeforeClass(): void
    {
        self::$park = RuleSet::fromFile(TestEnv::parkRules());
    }

    public function testRefundATicket(): void
    {
        $order = TestEnv::parkOrder();
        $receipt = self::$park->evaluate($order);
        $refund = self::$park->refund($order, $receipt, ['t1'], self::BEFORE_THE_VISIT);
        $this->assertSame('A-1001', $refund['order']);
        $this->assertCount(1, $refund['lines']);
        $line = $refund['lines'][0];
        $this->assertSame(['t1', 'refunded'], [$line['id'], $line['status']]);
        $this->assertSame('100.00', $line['fee']);
        $cents = fn (string $money): int => (int) str_replace('.', '', $money);
        $this->assertSame($cents($receipt['lines'][0]['total']), $cents($line['amount']) + $cents($line['fee']));
        $this->assertSame($receipt['lines'][0]['points_earned'], $line['points_revoked']);
    }

    public function testRefundMatchesTheJsonEntryPoint(): void
    {
        $order = TestEnv::parkOrder();
        $receipt = self::$park->evaluate($order);
        $request = json_encode(['order' => $order, 'receipt' => $receipt, 'lines' => ['t1', 't2'],
                                'datetime' => self::BEFORE_THE_VISIT], JSON_THROW_ON_ERROR);
        $this->assertSame(json_decode(self::$park->refundJson($request), true),
                          self::$park->refund($order, $receipt, ['t1', 't2'], self::BEFORE_THE_VISIT));
    }

    public function testRefundEqualsTesseraRefund(): void
    {
        $order = TestEnv::parkOrder();
        $receipt = self::$park->evaluate($order);
        $request = json_encode(['order' => $order, 'receipt' => $receipt, 'lines' => ['t1'],
                                'datetime' => self::BEFORE_THE_VISIT], JSON_THROW_ON_ERROR);
        $cli = TestEnv::cli($this, ['refund', TestEnv::parkRules(), '-'], $request);
        $this->assertSame(0, $cli['status'], $cli['stderr']);
        $this->assertSame(rtrim($cli['stdout'], "\n"), self::$park->refundJson($request));
        $this->assertSame(json_decode($cli['stdout'], true),
                          self::$park->refund($order, $receipt, ['t1'], self::BEFORE_THE_VISIT));
    }

    public function testRefundTimeAsDateTime(): void
    {
        $order = TestEnv::parkOrder();
        $receipt = self::$park->evaluate($order);
        $at = new \DateTimeImmutable('2026-06-11 10:00:00', new \DateTimeZone('Europe/Moscow'));
        $this->assertSame(self::$park->refund($order, $receipt, ['t2'], self::BEFORE_THE_VISIT),
                          self::$park->refund($order, $receipt, ['t2'], $at));
    }

    public function testLateRefundIsRejectedWithTheReason(): void
    {
        $order = TestEnv::parkOrder();
        $refund = self::$park->refund($order, self::$park->evaluate($order), ['t1'], '2026-06-13T12:00:00+03:00');
        $this->assertSame('rejected', $refund['lines'][0]['status']);
        $this->assertNotEmpty($refund['lines'][0]['why']);
    }

    public function testPreviousRefundsAreRejectedAsAlreadyRefunded(): void
    {
        $order = TestEnv::parkOrder();
        $receipt = self::$park->evaluate($order);
        $first = self::$park->refund($order, $receipt, ['t1'], self::BEFORE_THE_VISIT);
        $again = self::$park->refund($order, $receipt, ['t1', 't2'], self::BEFORE_THE_VISIT,
            ['lines' => ['t1'], 'clawback' => $first['totals']['clawback']]);
        $this->assertSame(['t1' => 'rejected', 't2' => 'refunded'],
                          array_column($again['lines'], 'status', 'id'));
    }

    public function testAForgedPreviousClawbackIsAReceiptError(): void
    {
        $order = TestEnv::parkOrder();
        $receipt = self::$park->evaluate($order);
        $withheld = self::$park->refund($order, $receipt, ['t1'], self::BEFORE_THE_VISIT)['totals']['clawback'];
        try {
            self::$park->refund($order, $receipt, ['t2'], self::BEFORE_THE_VISIT,
                ['lines' => ['t1'], 'clawback' => '1000000.00']);
            $this->fail('refunded');
        } catch (ReceiptError $e) {
            $this->assertSame('previous.clawback', $e->getPath());
            $this->assertStringContainsString("withheld at most $withheld: ", $e->getMessage());
            $this->assertStringContainsString('(you passed 1000000.00: ', $e->getMessage());
        }
        // the ledger's figure is accepted
        $second = self::$park->refund($order, $receipt, ['t2'], self::BEFORE_THE_VISIT,
            ['lines' => ['t1'], 'clawback' => $withheld]);
        $this->assertSame('refunded', $second['lines'][0]['status']);
    }

    public function testAMissingPreviousClawbackIsAnOrderError(): void
    {
        // the park re-prices: after an earlier refund no default is right,
        // so the figure from the caller's records is asked for
        $order = TestEnv::parkOrder();
        $receipt = self::$park->evaluate($order);
        try {
            self::$park->refund($order, $receipt, ['t2'], self::BEFORE_THE_VISIT, ['lines' => ['t1']]);
            $this->fail('refunded');
        } catch (OrderError $e) {
            $this->assertNotInstanceOf(ReceiptError::class, $e);
            $this->assertSame('previous.clawback', $e->getPath());
            $this->assertStringContainsString('pass `clawback`', $e->getMessage());
        }
        // with nothing refunded before it may be left out
        $this->assertSame(
            self::$park->refund($order, $receipt, ['t2'], self::BEFORE_THE_VISIT),
            self::$park->refund($order, $receipt, ['t2'], self::BEFORE_THE_VISIT, ['lines' => []]));
    }

    public function testTamperedReceiptIsAReceiptErrorWithItsPath(): void
    {
        $order = TestEnv::parkOrder();
        $receipt = self::$park->evaluate($order);
        $receipt['lines'][0]['total'] = '1.00';
        try {
            self::$park->refund($order, $receipt, ['t1'], self::BEFORE_THE_VISIT);
            $this->fail('refunded');
        } catch (ReceiptError $e) {
            $this->assertSame('receipt.lines[0].total', $e->getPath());
            $this->assertSame(-13, $e->getCode());               // TSR_ERECEIPT
            $this->assertInstanceOf(OrderError::class, $e);
        }
    }

    public function testUnknownLineIsAnOrderError(): void
    {
        $order = TestEnv::parkOrder();
        try {
            self::$park->refund($order, self::$park->evaluate($order), ['t1', 'nope'], self::BEFORE_THE_VISIT);
            $this->fail('refunded');
        } catch (OrderError $e) {
            $this->assertSame('lines[1]', $e->getPath());
            $this->assertNotInstanceOf(ReceiptError::class, $e);
        }
    }
}
