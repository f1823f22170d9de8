/*
 * order_oracle.h — what the tests compare the library's JSON order reader
 * with: the former yajl-based reader (oracle_json_yajl.c), and a canonical
 * dump of an order (order_dump.c), so that two orders read from the same
 * text can be compared as text.  Internal: whatever includes it links
 * tessera_static (or the fuzzing copy of the library) and sees lib/.
 */
#ifndef TSR_ORDER_ORACLE_H
#define TSR_ORDER_ORACLE_H

#include "order.h"

/* What tsr__order_read_json did before the schema-aware reader: read JSON
 * text into a cleared order (not finished); on error the order is cleared
 * again.  Same contract; the new reader must give the same answer, the
 * same order and the same error (code, message, path) on every input. */
int tsr_oracle_order_read_json(tsr_order *o, const char *text, size_t len, tsr_error *err);

/* Everything an order holds, as text: every slot of every record with its
 * type (strings byte for byte, and whether they are NUL-terminated), the
 * lines, promo codes and uses, points lots and the flags the evaluator
 * reads.  malloc'd; NULL when out of memory. */
char *tsr_oracle_order_dump(const tsr_order *o);

#endif /* TSR_ORDER_ORACLE_H */
