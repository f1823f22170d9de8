<?php

declare(strict_types=1);

namespace Tessera\Tests;

use PHPUnit\Framework\TestCase;
use Tessera\Error;
use Tessera\EvaluationError;
use Tessera\OrderError;
use Tessera\ReceiptError;
use Tessera\RuleError;
use Tessera\RuleSet;

/** Loading rule sets, and every load failure as a RuleError with its place. */
final class LoadTest extends TestCase
{
    private const GOOD = <<<'YAML'
        tessera: 1
        ruleset: tiny
        version: "7"
        currency: EUR
        categories:
          - id: adult
            for: item.kind == "ticket"
            price: 25.00

        YAML;

    public function testFromFileLoadsAndReportsIdentity(): void
    {
        $rs = RuleSet::fromFile(TestEnv::parkRules());
        $this->assertSame(['island-park', 'RUB'], [$rs->id(), $rs->currency()]);
        $this->assertNotSame('', $rs->version());
        $this->assertStringContainsString($rs->version(), file_get_contents(TestEnv::parkRules()));
    }

    public function testFromStringLoads(): void
    {
        $rs = RuleSet::fromString(self::GOOD, 'tiny.yaml');
        $this->assertSame(['tiny', '7', 'EUR'], [$rs->id(), $rs->version(), $rs->currency()]);
        $this->assertSame('tiny', RuleSet::fromString(self::GOOD)->id());
    }

    public function testLibraryVersion(): void
    {
        $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+$/', RuleSet::libraryVersion());
    }

    public function testNativeHandleIsNotConstructible(): void
    {
        try {
            new \TesseraNativeRuleSet();
            $this->fail('constructed');
        } catch (Error $e) {
            $this->assertSame(-10, $e->getCode());   // TSR_EINVAL
        }
    }

    public function testBrokenYamlIsARuleErrorWithFileLineAndColumn(): void
    {
        $text = str_replace("    price: 25.00\n", "    price: [25.00\n", self::GOOD);
        try {
            RuleSet::fromString($text, 'broken.yaml');
            $this->fail('loaded');
        } catch (RuleError $e) {
            $this->assertSame('broken.yaml', $e->getRuleFile());
            $this->assertGreaterThanOrEqual(8, $e->getRuleLine());
            $this->assertGreaterThanOrEqual(1, $e->getRuleColumn());
            $this->assertNull($e->getPath());
            $this->assertSame(-3, $e->getCode());    // TSR_EPARSE
            $this->assertStringStartsWith(
                sprintf('broken.yaml:%d:%d: ', $e->getRuleLine(), $e->getRuleColumn()), $e->getMessage());
            $this->assertStringEndsWith($e->getDetail(), $e->getMessage());
            $this->assertInstanceOf(Error::class, $e);
            $this->assertInstanceOf(\RuntimeException::class, $e);
        }
    }

    public function testTypeErrorPointsAtTheExpressionLikeTesseraCheck(): void
    {
        $path = tempnam(sys_get_temp_dir(), 'tsr') . '.yaml';
        file_put_contents($path, str_replace('for: item.kind == "ticket"', 'for: item.kind == 3', self::GOOD));
        try {
            RuleSet::fromFile($path);
            $this->fail('loaded');
        } catch (RuleError $e) {
            $this->assertSame([$path, 7, 20], [$e->getRuleFile(), $e->getRuleLine(), $e->getRuleColumn()]);
            $this->assertSame(-5, $e->getCode());    // TSR_ETYPE
            $check = TestEnv::cli($this, ['check', $path]);
            $this->assertSame(1, $check['status']);
            $first = strtok($check['stderr'], "\n");
            $this->assertSame(str_replace("$path:7:20: ", "$path:7:20: error: ", $e->getMessage()), $first);
        } finally {
            @unlink($path);
        }
    }

    public function testMissingFileIsARuleError(): void
    {
        $missing = sys_get_temp_dir() . '/tessera-no-such-file.yaml';
        try {
            RuleSet::fromFile($missing);
            $this->fail('loaded');
        } catch (RuleError $e) {
            $this->assertSame(-2, $e->getCode());    // TSR_EIO
            $this->assertStringContainsString($missing, $e->getMessage());
        }
    }

    public function testFailedIncludeIsARuleError(): void
    {
        $dir = sys_get_temp_dir() . '/tessera-include-' . getmypid();
        @mkdir($dir);
        file_put_contents("$dir/main.yaml", "include: [missing-part.yaml]\n" . self::GOOD);
        try {
            RuleSet::fromFile("$dir/main.yaml");
            $this->fail('loaded');
        } catch (RuleError $e) {
            $this->assertSame(1, $e->getRuleLine());
            $this->assertStringContainsString('missing-part.yaml', $e->getMessage());
        } finally {
            @unlink("$dir/main.yaml");
            @rmdir($dir);
        }
    }

    public function testIncludeOutsideTheTreeNeedsAllowPaths(): void
    {
        $root = sys_get_temp_dir() . '/tessera-allow-' . getmypid();
        @mkdir("$root/rules", 0700, true);
        @mkdir("$root/shared", 0700, true);
        file_put_contents("$root/shared/prices.yaml",
            "categories:\n  - { id: adult, for: item.kind == \"ticket\", price: 25.00 }\n");
        file_put_contents("$root/rules/main.yaml",
            "tessera: 1\nruleset: shared-prices\ncurrency: EUR\ninclude: [../shared/prices.yaml]\n");
        try {
            try {
                RuleSet::fromFile("$root/rules/main.yaml");
                $this->fail('an include outside the tree was read');
            } catch (RuleError $e) {
                $this->assertStringContainsString('outside the directory', $e->getMessage());
            }
            $rs = RuleSet::fromFile("$root/rules/main.yaml", ["$root/shared"]);
            $this->assertSame('shared-prices', $rs->id());
            $this->expectException(\ValueError::class);
            RuleSet::fromFile("$root/rules/main.yaml", ["a\0b"]);
        } finally {
            @unlink("$root/shared/prices.yaml");
            @unlink("$root/rules/main.yaml");
            @rmdir("$root/shared");
            @rmdir("$root/rules");
            @rmdir($root);
        }
    }

    public function testTheErrorClassHierarchy(): void
    {
        foreach ([RuleError::class, OrderError::class, EvaluationError::class, ReceiptError::class] as $class) {
            $this->assertTrue(is_subclass_of($class, Error::class), $class);
        }
        $this->assertTrue(is_subclass_of(ReceiptError::class, OrderError::class));
        $this->assertFalse(is_subclass_of(RuleError::class, OrderError::class));
        $this->assertTrue(is_subclass_of(Error::class, \RuntimeException::class));
    }
}
