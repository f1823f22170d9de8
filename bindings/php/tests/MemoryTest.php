<?php

declare(strict_types=1);

namespace Tessera\Tests;

use PHPUnit\Framework\TestCase;
use Tessera\OrderError;
use Tessera\RuleError;
use Tessera\RuleSet;

/**
 * Ownership and memory: results outlive their rule set, objects may be freed
 * in any order, and 100,000 evaluations do not grow the process (RSS read
 * from /proc/self/status; a behaviour check, not a timing).
 */
final class MemoryTest extends TestCase
{
    private const EVALUATIONS = 100000;
    /** KiB allowed after the warm-up; a 32-byte leak per call would be 3,125 KiB. */
    private const RSS_SLACK_KIB = 1024;

    /** Resident set size (VmRSS, the counter behind /proc/self/statm's second field). */
    private static function rssKib(): int
    {
        preg_match('/^VmRSS:\s+(\d+) kB$/m', file_get_contents('/proc/self/status'), $m);
        return (int) $m[1];
    }

    public function testResultOutlivesItsRuleSet(): void
    {
        $rs = RuleSet::fromFile(TestEnv::parkRules());
        $order = TestEnv::parkOrder();
        $result = $rs->evaluate($order);
        $refund = $rs->refund($order, $result, ['t1'], '2026-06-11T10:00:00+03:00');
        $weak = \WeakReference::create($rs);
        unset($rs);
        gc_collect_cycles();
        $this->assertNull($weak->get());
        $this->assertNotEmpty($result['totals']['due']);
        $this->assertSame('refunded', $refund['lines'][0]['status']);
    }

    public function testRuleSetsAndResultsFreedInAnyOrder(): void
    {
        mt_srand(20261122);
        $objects = [];
        for ($i = 0; $i < 40; $i++) {
            $rs = RuleSet::fromFile(TestEnv::parkRules());
            $objects[] = $rs;
            $objects[] = $rs->evaluate(TestEnv::parkOrder());
        }
        unset($rs);
        for ($round = 0; $round < 3; $round++) {
            shuffle($objects);
            while (count($objects) > 10) {
                array_pop($objects);
                if (mt_rand(0, 9) < 3) {
                    gc_collect_cycles();
                }
            }
            foreach ($objects as $o) {
                if ($o instanceof RuleSet) {
                    $this->assertNotEmpty($o->evaluate(TestEnv::parkOrder())['totals']['due']);
                }
            }
            for ($i = 0; $i < 30; $i++) {
                $objects[] = RuleSet::fromFile(TestEnv::parkRules());
            }
        }
        $objects = [];
        gc_collect_cycles();
        $this->assertSame([], $objects);
    }

    public function testRssIsStableOver100kEvaluations(): void
    {
        $rs = RuleSet::fromFile(TestEnv::park10Rules());
        $park = RuleSet::fromFile(TestEnv::parkRules());
        $orders = [TestEnv::parkOrder()];
        if (is_file(TestEnv::park10Orders())) {
            $orders = array_map(fn ($l) => json_decode($l, true),
                array_slice(file(TestEnv::park10Orders(), FILE_IGNORE_NEW_LINES), 0, 200));
        }
        $bad = ['datetime' => '2026-06-10T11:00:00+03:00',
                'items' => [['id' => 'x', 'kind' => 'fnb', 'price' => '1.00'],
                            ['id' => 'x', 'kind' => 'fnb', 'price' => '1.00']]];
        $order = TestEnv::parkOrder();
        $receipt = $park->evaluate($order);
        $n = count($orders);
        $run = function (int $count) use ($rs, $park, $orders, $n, $bad, $order, $receipt): void {
            for ($i = 0; $i < $count; $i++) {
                $rs->evaluate($orders[$i % $n]);
                if ($i % 10 === 0) {                                // the error path too
                    try {
                        $rs->evaluate($bad);
                        $this->fail('evaluated');
                    } catch (OrderError) {
                    }
                }
                if ($i % 50 === 0) {
                    $park->refund($order, $receipt, ['t1'], '2026-06-11T10:00:00+03:00');
                    try {
                        RuleSet::fromString('tessera: [', 'broken.yaml');
                        $this->fail('loaded');
                    } catch (RuleError) {
                    }
                }
            }
        };
        $run(10000);                                                // warm-up
        gc_collect_cycles();
        $before = self::rssKib();
        $run(self::EVALUATIONS);
        gc_collect_cycles();
        $growth = self::rssKib() - $before;
        $this->assertLessThan(self::RSS_SLACK_KIB, $growth,
            sprintf('RSS grew by %d KiB over %d evaluations', $growth, self::EVALUATIONS));
    }
}
