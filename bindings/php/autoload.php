<?php

declare(strict_types=1);

/*
 * Autoloader for the Tessera\ wrapper without Composer, from the source
 * tree: require this file.  Installed, the same loader is
 * Tessera/autoload.php on the include_path (src/autoload.php).
 */
require_once __DIR__ . '/src/autoload.php';
