<?php

/*
 * The PHP side of tests/bench/bindings_overhead.sh: per-call time of the
 * wrapper's evaluate paths on the park10 orders.
 *
 *   php -d extension=build/bindings/php/tessera.so bindings_overhead.php RULES ORDERS.jsonl
 *
 *   evaluateJson  string in, string out: the extension's call
 *   evaluate      array in (json_encode + shape), array out (json_decode)
 *
 * The fastest of BENCH_RUNS runs of at least BENCH_SECONDS each, after a
 * warm-up (and the median); one line per path and trace setting:
 * `php evaluate trace=off ns_per_call=... median=...`.
 *
 * With BENCH_CALLS=N, BENCH_PATH and BENCH_TRACE=on|off it makes exactly N
 * calls of that path and prints nothing: bindings_overhead.sh counts their
 * instructions.
 */

declare(strict_types=1);

require __DIR__ . '/../../bindings/php/autoload.php';

/** @return array{float, float} the fastest and the median run, ns per call */
function per_call_ns(callable $call, array $inputs, float $secs, int $runs): array
{
    $run = function (float $min) use ($call, $inputs): float {
        $n = count($inputs);
        $count = 0;
        $i = 0;
        $t0 = hrtime(true);
        while (true) {
            for ($k = 0; $k < 256; $k++, $i++) {
                $call($inputs[$i % $n]);
            }
            $count += 256;
            $t = hrtime(true) - $t0;
            if ($t >= $min * 1e9) {
                return $t / $count;
            }
        }
    };
    $run(0.5);
    $all = [];
    for ($r = 0; $r < $runs; $r++) {
        $all[] = $run($secs);
    }
    sort($all);
    return [$all[0], $all[intdiv($runs, 2)]];
}

[$script, $rules, $ordersPath] = $argv + [null, null, null];
if ($ordersPath === null) {
    fwrite(STDERR, "usage: bindings_overhead.php RULES ORDERS.jsonl\n");
    exit(64);
}
$runs = (int) (getenv('BENCH_RUNS') ?: 9);
$secs = (float) (getenv('BENCH_SECONDS') ?: 0.5);
$rs = Tessera\RuleSet::fromFile($rules);
$texts = file($ordersPath, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES);
$arrays = array_map(fn (string $t): array => json_decode($t, true, 512, JSON_THROW_ON_ERROR), $texts);

if (getenv('BENCH_CALLS')) {
    $trace = getenv('BENCH_TRACE') === 'on';
    [$call, $inputs] = [
        'evaluateJson' => [fn (string $t) => $rs->evaluateJson($t, trace: $trace), $texts],
        'evaluate' => [fn (array $o) => $rs->evaluate($o, trace: $trace), $arrays],
    ][getenv('BENCH_PATH')];
    $n = count($inputs);
    for ($i = 0, $calls = (int) getenv('BENCH_CALLS'); $i < $calls; $i++) {
        $call($inputs[$i % $n]);
    }
    exit(0);
}

foreach ([false, true] as $trace) {
    $paths = [
        'evaluateJson' => [fn (string $t) => $rs->evaluateJson($t, trace: $trace), $texts],
        'evaluate' => [fn (array $o) => $rs->evaluate($o, trace: $trace), $arrays],
    ];
    foreach ($paths as $name => [$call, $inputs]) {
        [$best, $median] = per_call_ns($call, $inputs, $secs, $runs);
        printf("php %s trace=%s ns_per_call=%.0f median=%.0f\n", $name, $trace ? 'on' : 'off',
               $best, $median);
    }
}
