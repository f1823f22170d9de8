<?php

declare(strict_types=1);

namespace Tessera\Bitrix;

use Tessera\OrderError;

/**
 * A basket that cannot be priced, because of one basket item: a fractional
 * QUANTITY, a row without ID, or anything the library refused at
 * items[i].… of the order the basket became.  getBasketItemId() and
 * getBasketItemName() name the item as Bitrix knows it (ID or basket code,
 * NAME); getPath() stays the order's JSON path (items[1].quantity) and
 * getPrevious() the library's own OrderError when there was one.
 */
final class BasketError extends OrderError
{
    private const EORDER = -7; // TSR_EORDER

    public function __construct(
        string $detail,
        private readonly ?string $basketItemId,
        private readonly ?string $basketItemName,
        ?string $path,
        ?\Throwable $previous = null,
    ) {
        $who = $basketItemId === null ? 'basket item' : "basket item $basketItemId";
        if ($basketItemName !== null && $basketItemName !== '') {
            $who .= " ($basketItemName)";
        }
        parent::__construct($who . ': ' . ($path !== null ? "$path: " : '') . $detail,
                            $previous !== null ? (int) $previous->getCode() : self::EORDER, $previous);
        $this->path = $path;
        $this->detail = $detail;
    }

    /** The basket item's ID (or basket code, "n1", when it has no ID yet). */
    public function getBasketItemId(): ?string
    {
        return $this->basketItemId;
    }

    /** The basket item's NAME, as the shop shows it. */
    public function getBasketItemName(): ?string
    {
        return $this->basketItemName;
    }
}
