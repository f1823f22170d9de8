<?php

declare(strict_types=1);

/*
 * Autoloader for the Tessera\ wrapper without Composer: require this file
 * (or install src/ as share/php/Tessera and use your own PSR-4 loader).
 * With Composer, composer.json's autoload section does the same.
 */
spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'Tessera\\')) {
        $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 8)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
