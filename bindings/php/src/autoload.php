<?php

declare(strict_types=1);

/*
 * PSR-4 autoloader of the Tessera\ classes that lie beside this file:
 * Tessera\RuleSet is ./RuleSet.php, Tessera\Bitrix\Basket ./Bitrix/Basket.php.
 * Installed (php-tessera, or `cmake --install`) this is
 * /usr/share/php/Tessera/autoload.php, on PHP's default include_path:
 *
 *     require_once 'Tessera/autoload.php';
 *
 * With Composer, composer.json's autoload section does the same.
 */
spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'Tessera\\')) {
        $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, 8)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
