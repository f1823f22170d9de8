/*
 * expr_ctx.c — the compile context every stage of the expression compiler
 * shares (expr_lex.c, expr_parse.c, expr_check.c, expr_emit.c, driven by
 * expr_compile.c): setting it up and tearing it down, the compile error at
 * a byte of the source with its exact file position, and the names of the
 * types that errors quote.
 */
#include "expr_impl.h"

#include <stdio.h>

static const char *const type_names[TSR_T__COUNT] = {
    [TSR_T_MISSING] = "missing", [TSR_T_BOOL] = "bool", [TSR_T_INT] = "int",
    [TSR_T_DECIMAL] = "decimal", [TSR_T_MONEY] = "money", [TSR_T_STRING] = "string",
    [TSR_T_DATE] = "date", [TSR_T_DATETIME] = "datetime", [TSR_T_DURATION] = "duration",
    [TSR_T_LIST] = "list", [TSR_T_ITEMS] = "items", [TSR_T_MAP] = "table",
};

const char *tsr__type_name(tsr_type t)
{
    return (unsigned)t < TSR_T__COUNT ? type_names[t] : "?";
}

int tsr__xcx_init(tsr_xcx *cx, const char *src, size_t len, const tsr_ynode *node,
                  const tsr_expr_env *env, tsr_arena *arena, tsr_error *err)
{
    memset(cx, 0, sizeof *cx);
    cx->node = node;
    cx->env = env;
    cx->arena = arena;
    cx->err = err;
    tsr__arena_init(&cx->scratch, arena->alloc, 4096);
    char *copy = tsr__arena_strndup(arena, src, len);
    if (!copy)
        return tsr__err(err, TSR_ENOMEM, "out of memory");
    cx->src = copy;
    cx->len = len;
    return TSR_OK;
}

void tsr__xcx_fini(tsr_xcx *cx)
{
    if (!cx->arena)
        return;   /* never initialised, or already finished */
    const tsr_alloc *a = cx->arena->alloc;
    if (cx->ops)
        tsr__free(a, cx->ops, cx->capops * sizeof *cx->ops);
    if (cx->kids)
        tsr__free(a, cx->kids, cx->capkids * sizeof *cx->kids);
    if (cx->fold_scratch)
        tsr__regex_scratch_free(cx->fold_scratch, a);
    tsr__arena_free(&cx->scratch);
    cx->ops = NULL;
    cx->kids = NULL;
    cx->fold_scratch = NULL;
    cx->arena = NULL;
}

int tsr__xerr(tsr_xcx *cx, int code, size_t off, const char *fmt, ...)
{
    char msg[TSR_ERROR_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    int line = 1, col = (int)off + 1;
    if (cx->node && cx->node->kind == TSR_Y_SCALAR)
        tsr__yaml_scalar_pos(cx->node, off, &line, &col);
    const char *file = cx->env && cx->env->file ? cx->env->file : "";
    return tsr__err_at(cx->err, code, file, line, col, "%s", msg);
}
