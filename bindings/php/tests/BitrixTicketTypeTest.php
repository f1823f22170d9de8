<?php

declare(strict_types=1);

namespace Tessera\Tests;

use PHPUnit\Framework\TestCase;
use Tessera\Bitrix\Basket;
use Tessera\Bitrix\BasketError;
use Tessera\RuleSet;

/**
 * The ticket type a buyer chose (the TICKET_TYPE basket property) passed as
 * items[i].category: the rule file must declare that category
 * `selectable: true`, and naming any other is an order error at
 * items[i].category, which the adapter maps to the basket item.
 */
final class BitrixTicketTypeTest extends TestCase
{
    private static ?RuleSet $rules = null;

    public static function setUpBeforeClass(): void
    {
        self::$rules = RuleSet::fromFile(__DIR__ . '/fixtures/bitrix/ticket-types.yaml');
    }

    /** @return list<array<string, mixed>> */
    private static function rows(string ...$types): array
    {
        $rows = [];
        foreach ($types as $i => $type) {
            $rows[] = ['ID' => 7001 + $i, 'PRODUCT_ID' => 900, 'NAME' => "Ticket ($type)",
                       'PRODUCT_XML_ID' => 'OPERA-STALLS', 'QUANTITY' => '1.0000',
                       'BASE_PRICE' => '2500.0000', 'CAN_BUY' => 'Y', 'DELAY' => 'N',
                       'PROPS' => [['NAME' => 'Kind', 'CODE' => 'KIND', 'VALUE' => 'ticket'],
                                   ['NAME' => 'Ticket type', 'CODE' => 'TICKET_TYPE', 'VALUE' => $type]]];
        }
        return $rows;
    }

    private static function basket(): Basket
    {
        return new Basket(self::$rules, ['category' => 'TICKET_TYPE', 'fields' => ['age' => ['AGE', 'int']]]);
    }

    private static function context(): array
    {
        return ['datetime' => '2026-06-10T16:20:00+03:00'];
    }

    public function testTheChosenSelectableTypeSetsTheCategoryAndPrice(): void
    {
        $rows = self::rows('student', 'adult');
        $rows[1]['PROPS'][1]['VALUE'] = '';                   // no type chosen: first match
        $this->assertSame('student', self::basket()->toOrder($rows)['items'][0]['category']);
        $this->assertArrayNotHasKey('category', self::basket()->toOrder($rows)['items'][1]);
        self::basket()->price($rows, self::context());
        $this->assertSame(['1900.00', '2500.00'], array_column($rows, 'BASE_PRICE'));
        $this->assertSame('student', array_column($rows[0]['PROPS'], 'VALUE', 'CODE')['TESSERA_CATEGORY']);
    }

    public function testATypeThatIsNotSelectableIsRefusedNamingTheBasketItem(): void
    {
        $rows = self::rows('student', 'adult');                // adult is not selectable
        try {
            self::basket()->price($rows, self::context());
            $this->fail('priced');
        } catch (BasketError $e) {
            $this->assertSame(['7002', 'items[1].category'], [$e->getBasketItemId(), $e->getPath()]);
        }
    }

    public function testASelectableTypeWhoseConditionFailsIsRefused(): void
    {
        $rows = self::rows('pensioner');
        $rows[0]['PROPS'][] = ['NAME' => 'Age', 'CODE' => 'AGE', 'VALUE' => '41'];
        try {
            self::basket()->price($rows, self::context());
            $this->fail('priced');
        } catch (BasketError $e) {
            $this->assertSame(['7001', 'items[0].category'], [$e->getBasketItemId(), $e->getPath()]);
        }
        $rows[0]['PROPS'][2]['VALUE'] = '67';
        self::basket()->price($rows, self::context());
        $this->assertSame('1200.00', $rows[0]['BASE_PRICE']);
    }
}
