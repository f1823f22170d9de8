<?php

declare(strict_types=1);

namespace Tessera;

/**
 * PHP arrays <-> the JSON text the C library reads and writes.
 *
 * PHP arrays do not say whether they are lists or maps, so the order's
 * built-in shape (SPEC §5) decides where it matters: the order, its customer,
 * each item and the promo-use counters are JSON objects even when empty; the
 * items, promo codes, tags and points lots are JSON lists even after
 * array_filter()/unset() left gaps in their keys.  DateTimeInterface values
 * become ISO 8601 datetimes with their offset.  Nothing here knows what a
 * rule means.
 *
 * @internal
 */
final class Json
{
    private const ENCODE = \JSON_PRESERVE_ZERO_FRACTION | \JSON_UNESCAPED_SLASHES
        | \JSON_UNESCAPED_UNICODE | \JSON_THROW_ON_ERROR;
    private const EORDER = -7; // TSR_EORDER

    /** @param array<string, mixed> $order */
    public static function encodeOrder(array $order, string $what): string
    {
        return self::encodeValue(self::shapeOrder($order), $what);
    }

    /** @param array<string, mixed> $receipt */
    public static function encodeReceipt(array $receipt): string
    {
        return self::encodeValue($receipt === [] ? new \stdClass() : $receipt, 'receipt');
    }

    public static function encodeValue(mixed $value, string $what): string
    {
        if ($value instanceof \DateTimeInterface) {
            $value = self::datetime($value);
        }
        try {
            $json = json_encode($value, self::ENCODE);
            // json_encode writes a DateTime as {"date":…,"timezone_type":…}: only
            // then (the key cannot appear otherwise unless a map has it) walk
            // the array and write them as ISO 8601 instead.
            if (\is_array($value) && str_contains($json, '"timezone_type":')) {
                array_walk_recursive($value, [self::class, 'datetimeLeaf']);
                $json = json_encode($value, self::ENCODE);
            }
            return $json;
        } catch (\JsonException $e) {
            throw new OrderError("the $what cannot be written as JSON: " . $e->getMessage(),
                                 self::EORDER, $e);
        }
    }

    /** @return array<string, mixed> */
    public static function decode(string $json): array
    {
        return json_decode($json, true, 512, \JSON_THROW_ON_ERROR | \JSON_BIGINT_AS_STRING);
    }

    /** ISO 8601 with the offset, microseconds only when there are some. */
    public static function datetime(\DateTimeInterface $t): string
    {
        return $t->format($t->format('u') === '000000' ? 'Y-m-d\TH:i:sP' : 'Y-m-d\TH:i:s.uP');
    }

    /** @internal array_walk_recursive callback */
    public static function datetimeLeaf(mixed &$v): void
    {
        if ($v instanceof \DateTimeInterface) {
            $v = self::datetime($v);
        }
    }

    /**
     * @param array<string, mixed> $order
     * @return array<string, mixed>|\stdClass
     */
    private static function shapeOrder(array $order): array|\stdClass
    {
        // Arrays are copied on write: an order already in shape is not copied.
        if (isset($order['items']) && \is_array($order['items'])
            && (!array_is_list($order['items']) || \in_array([], $order['items'], true))) {
            $order['items'] = array_map(fn ($item) => \is_array($item) ? self::map($item) : $item,
                                        array_values($order['items']));
        }
        if (isset($order['promo_codes']) && \is_array($order['promo_codes'])
            && !array_is_list($order['promo_codes'])) {
            $order['promo_codes'] = array_values($order['promo_codes']);
        }
        foreach (['promo_uses', 'promo_total_uses', 'customer'] as $key) {
            if (isset($order[$key]) && $order[$key] === []) {
                $order[$key] = new \stdClass();
            }
        }
        if (isset($order['customer']) && \is_array($order['customer'])) {
            foreach (['tags', 'points_lots'] as $key) {
                if (isset($order['customer'][$key]) && \is_array($order['customer'][$key])
                    && !array_is_list($order['customer'][$key])) {
                    $order['customer'][$key] = array_values($order['customer'][$key]);
                }
            }
        }
        return self::map($order);
    }

    /**
     * @param array<mixed> $a
     * @return array<mixed>|\stdClass
     */
    private static function map(array $a): array|\stdClass
    {
        return $a === [] ? new \stdClass() : $a;
    }
}
