<?php

declare(strict_types=1);

/*
 * PHPUnit bootstrap: the Tessera\ wrapper from src/ (no Composer needed),
 * and where the tests find the CLI, the rule sets and the shared scenarios
 * (ctest sets TESSERA_CLI, TESSERA_SOURCE_DIR, TESSERA_SHARED, TESSERA_PYTHON).
 */
require __DIR__ . '/../autoload.php';
require __DIR__ . '/TestEnv.php';

if (!extension_loaded('tessera')) {
    fwrite(STDERR, "the tessera extension is not loaded: run\n"
        . "  php -d extension=build/bindings/php/tessera.so /usr/bin/phpunit -c bindings/php/phpunit.xml\n");
    exit(1);
}
