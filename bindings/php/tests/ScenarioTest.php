<?php

declare(strict_types=1);

namespace Tessera\Tests;

use PHPUnit\Framework\TestCase;
use Tessera\OrderError;
use Tessera\RuleSet;

/**
 * The shared park scenario's orders (../shared/scenarios/park/park.test.yaml,
 * read through scenario_orders.py: PHP has no YAML reader) evaluated through
 * the wrapper give exactly what the C library gives: the result JSON of
 * `tessera eval` built in the same tree, and the same error at the same JSON
 * path.  Also the 1,024 park10 orders against `tessera eval --jsonl`.
 */
final class ScenarioTest extends TestCase
{
    /** @return array<string, array{array, string, ?string, string}> */
    public function scenarioCases(): array
    {
        $tests = TestEnv::sharedDir() . '/scenarios/park/park.test.yaml';
        $python = getenv('TESSERA_PYTHON') ?: '/usr/bin/python3';
        if (!is_file($tests)) {
            return ['scenario missing' => [[], '', null, "shared scenario not found: $tests (set TESSERA_SHARED)"]];
        }
        $run = TestEnv::run([$python, __DIR__ . '/scenario_orders.py', $tests]);
        if ($run['status'] !== 0) {
            return ['no yaml reader' => [[], '', null, "cannot read $tests with $python "
                . '(python3-yaml): ' . $run['stderr']]];
        }
        $doc = json_decode($run['stdout'], true, 512, JSON_THROW_ON_ERROR);
        $plain = json_decode($run['stdout'], false, 512, JSON_THROW_ON_ERROR);
        $cases = [];
        foreach ($doc['cases'] as $i => $case) {
            $cases[$case['name']] = [$case['order'], json_encode($plain->cases[$i]->order, JSON_THROW_ON_ERROR),
                                     $case['error'], $doc['rules']];
        }
        return $cases;
    }

    /** @dataProvider scenarioCases */
    public function testScenarioOrderMatchesTheCLibrary(array $order, string $orderJson, ?string $error,
                                                        string $rules): void
    {
        if ($orderJson === '') {
            $this->markTestSkipped($rules);
        }
        $rs = RuleSet::fromFile($rules);
        $cli = TestEnv::cli($this, ['eval', $rules, '-'], $orderJson);
        if ($cli['status'] === 0) {
            $this->assertNull($error);
            $this->assertSame(json_decode($cli['stdout'], true), $rs->evaluate($order));
            $this->assertSame(rtrim($cli['stdout'], "\n"), $rs->evaluateJson($orderJson));
            return;
        }
        $this->assertSame(2, $cli['status'], $cli['stderr']);
        try {
            $rs->evaluate($order);
            $this->fail('evaluated an order the CLI refused');
        } catch (OrderError $e) {
            $this->assertNotNull($e->getPath());
            $this->assertStringContainsString($e->getPath(), $cli['stderr']);
            $this->assertStringContainsString($e->getDetail(), $cli['stderr']);
            if ($error !== null) {
                $this->assertStringContainsString($error, $e->getMessage());
            }
        }
    }

    public function testPark10OrdersMatchTesseraEvalJsonl(): void
    {
        $orders = TestEnv::park10Orders();
        if (!is_file($orders)) {
            $this->markTestSkipped("park10 workload not found: $orders (set TESSERA_SHARED)");
        }
        $cli = TestEnv::cli($this, ['eval', '--jsonl', TestEnv::park10Rules(), $orders]);
        $this->assertSame(0, $cli['status'], $cli['stderr']);
        $want = explode("\n", rtrim($cli['stdout'], "\n"));
        $lines = file($orders, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES);
        $this->assertCount(1024, $lines);
        $this->assertCount(1024, $want);
        $rs = RuleSet::fromFile(TestEnv::park10Rules());
        foreach ($lines as $i => $text) {
            $this->assertSame($want[$i], $rs->evaluateJson($text));
            $this->assertSame(json_decode($want[$i], true), $rs->evaluate(json_decode($text, true)));
        }
    }
}
