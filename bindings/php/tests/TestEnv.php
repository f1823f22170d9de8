<?php

declare(strict_types=1);

namespace Tessera\Tests;

use PHPUnit\Framework\TestCase;

/** Paths and helpers shared by the tests. */
final class TestEnv
{
    public static function sourceDir(): string
    {
        return getenv('TESSERA_SOURCE_DIR') ?: dirname(__DIR__, 3);
    }

    public static function sharedDir(): string
    {
        return getenv('TESSERA_SHARED') ?: dirname(self::sourceDir()) . '/shared';
    }

    public static function parkRules(): string
    {
        return self::sourceDir() . '/rules/park/park.yaml';
    }

    public static function park10Rules(): string
    {
        return self::sourceDir() . '/rules/park10/park10.yaml';
    }

    public static function park10Orders(): string
    {
        return self::sharedDir() . '/bench/park10/orders.jsonl';
    }

    /** A dated park order (rules/park/park.yaml prices tickets by their visit day). */
    public static function parkOrder(): array
    {
        return [
            'id' => 'A-1001',
            'datetime' => '2026-06-10T11:00:00+03:00',
            'customer' => ['id' => 'C-77', 'member' => true, 'visits' => 3, 'points_balance' => 1200],
            'items' => [
                ['id' => 't1', 'kind' => 'ticket', 'height_cm' => 118,
                 'event_start' => '2026-06-13T10:00:00+03:00'],
                ['id' => 't2', 'kind' => 'ticket', 'height_cm' => 175,
                 'event_start' => '2026-06-13T10:00:00+03:00'],
                ['id' => 'f1', 'kind' => 'fnb', 'price' => '150.00', 'quantity' => 2],
            ],
        ];
    }

    /**
     * Run the tessera CLI built in the same tree.
     * @return array{status: int, stdout: string, stderr: string}
     */
    public static function cli(TestCase $test, array $args, string $stdin = ''): array
    {
        $cli = getenv('TESSERA_CLI');
        if (!$cli) {
            $test->markTestSkipped('TESSERA_CLI is not set: the tessera CLI was not built');
        }
        return self::run(array_merge([$cli], $args), $stdin);
    }

    /** @return array{status: int, stdout: string, stderr: string} */
    public static function run(array $command, string $stdin = ''): array
    {
        $proc = proc_open($command, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        if (!\is_resource($proc)) {
            throw new \RuntimeException('cannot run ' . $command[0]);
        }
        fwrite($pipes[0], $stdin);
        fclose($pipes[0]);
        $stdout = stream_get_contents($pipes[1]);
        $stderr = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return ['status' => proc_close($proc), 'stdout' => $stdout, 'stderr' => $stderr];
    }

    /** JSON for the CLI, written without the wrapper's encoder. */
    public static function json(array $value): string
    {
        return json_encode($value, JSON_THROW_ON_ERROR | JSON_PRESERVE_ZERO_FRACTION);
    }
}
