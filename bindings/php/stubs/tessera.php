<?php

/*
 * IDE and static-analysis stubs for what the tessera extension defines
 * (it registers these classes itself, from the error table in
 * bindings/swig/tessera.i).  Never include this file at run time.
 */

namespace Tessera {
    /** Base class of every Tessera error; itself for out of memory and invalid arguments. */
    class Error extends \RuntimeException
    {
        protected ?string $ruleFile = null;
        protected ?int $ruleLine = null;
        protected ?int $ruleColumn = null;
        protected ?string $path = null;
        protected string $detail = '';

        /** The rule file the error is about, null when it is not about a file. */
        public function getRuleFile(): ?string {}
        /** 1-based line in the rule file, null when unknown. */
        public function getRuleLine(): ?int {}
        /** 1-based column in the rule file, null when unknown. */
        public function getRuleColumn(): ?int {}
        /** JSON path into the order or refund request (items[1].id), null when none. */
        public function getPath(): ?string {}
        /** The message without its location. */
        public function getDetail(): string {}
    }

    /** A rule file could not be loaded; getRuleFile/Line/Column say where. */
    class RuleError extends Error {}

    /** An order or refund request is invalid; getPath() says where. */
    class OrderError extends Error {}

    /** A refund's receipt does not match its order and rule set; getPath() says where. */
    class ReceiptError extends OrderError {}

    /** A valid order could not be evaluated against the rule set. */
    class EvaluationError extends Error {}
}

namespace {
    /** The extension's rule-set handle (private to the wrapper: use Tessera\RuleSet). */
    class TesseraNativeRuleSet
    {
        /** @throws Tessera\Error always: use load_file or load_string */
        public function __construct() {}
        /** @throws Tessera\RuleError */
        public static function load_file(string $path, string $allow): TesseraNativeRuleSet {}
        /** @throws Tessera\RuleError */
        public static function load_string(string $text, ?string $name, string $allow): TesseraNativeRuleSet {}
        public static function library_version(): string {}
        public function id(): ?string {}
        public function version(): ?string {}
        public function currency(): ?string {}
        /** @throws Tessera\OrderError|Tessera\EvaluationError */
        public function evaluate_json(string $text, int $customer_safe, int $no_trace): ?string {}
        /** @throws Tessera\OrderError|Tessera\ReceiptError */
        public function refund_json(string $text): ?string {}
    }
}
