/*
 * tessera_php.i — what the PHP binding does differently, included by
 * ../swig/tessera.i: the exception classes of the shared table registered
 * as Tessera\Error (extends \RuntimeException) and its subclasses, with
 * getters for where the error is; tsrb_raise(); strings in and out.
 *
 * PHP's own Exception::getFile()/getLine() keep meaning the PHP source that
 * threw, so the rule file's position is getRuleFile()/getRuleLine()/
 * getRuleColumn(); getPath() is the JSON path into the order, getDetail()
 * the message without location, getCode() the TSR_E* status code.
 */

%{
#include "zend_exceptions.h"
#include "ext/spl/spl_exceptions.h"

static zend_class_entry *tsrb_php_classes[TSRB_CLASS_COUNT];

static void tsrb_php_get(INTERNAL_FUNCTION_PARAMETERS, const char *name, size_t len)
{
    zval rv, *v;

    ZEND_PARSE_PARAMETERS_NONE();
    v = zend_read_property(tsrb_php_classes[TSRB_ERROR], Z_OBJ_P(ZEND_THIS), name, len, 1, &rv);
    RETURN_COPY_DEREF(v);
}

static void tsrb_php_get_rule_file(INTERNAL_FUNCTION_PARAMETERS)
{
    tsrb_php_get(INTERNAL_FUNCTION_PARAM_PASSTHRU, "ruleFile", sizeof "ruleFile" - 1);
}
static void tsrb_php_get_rule_line(INTERNAL_FUNCTION_PARAMETERS)
{
    tsrb_php_get(INTERNAL_FUNCTION_PARAM_PASSTHRU, "ruleLine", sizeof "ruleLine" - 1);
}
static void tsrb_php_get_rule_column(INTERNAL_FUNCTION_PARAMETERS)
{
    tsrb_php_get(INTERNAL_FUNCTION_PARAM_PASSTHRU, "ruleColumn", sizeof "ruleColumn" - 1);
}
static void tsrb_php_get_path(INTERNAL_FUNCTION_PARAMETERS)
{
    tsrb_php_get(INTERNAL_FUNCTION_PARAM_PASSTHRU, "path", sizeof "path" - 1);
}
static void tsrb_php_get_detail(INTERNAL_FUNCTION_PARAMETERS)
{
    tsrb_php_get(INTERNAL_FUNCTION_PARAM_PASSTHRU, "detail", sizeof "detail" - 1);
}

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(tsrb_arginfo_nullable_string, 0, 0, IS_STRING, 1)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(tsrb_arginfo_nullable_int, 0, 0, IS_LONG, 1)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(tsrb_arginfo_string, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()

static const zend_function_entry tsrb_php_error_methods[] = {
    ZEND_RAW_FENTRY("getRuleFile", tsrb_php_get_rule_file, tsrb_arginfo_nullable_string, ZEND_ACC_PUBLIC)
    ZEND_RAW_FENTRY("getRuleLine", tsrb_php_get_rule_line, tsrb_arginfo_nullable_int, ZEND_ACC_PUBLIC)
    ZEND_RAW_FENTRY("getRuleColumn", tsrb_php_get_rule_column, tsrb_arginfo_nullable_int, ZEND_ACC_PUBLIC)
    ZEND_RAW_FENTRY("getPath", tsrb_php_get_path, tsrb_arginfo_nullable_string, ZEND_ACC_PUBLIC)
    ZEND_RAW_FENTRY("getDetail", tsrb_php_get_detail, tsrb_arginfo_string, ZEND_ACC_PUBLIC)
    ZEND_FE_END
};

/* Register the classes of the table as Tessera\<Name>. */
static void tsrb_php_register_classes(void)
{
    int i;

    for (i = 0; i < TSRB_CLASS_COUNT; i++) {
        const tsrb_class_info *c = &tsrb_classes[i];
        zend_class_entry ce, *parent;
        char qualified[64];
        int n = snprintf(qualified, sizeof qualified, "Tessera\\%s", c->name);

        parent = c->base < 0 ? spl_ce_RuntimeException : tsrb_php_classes[c->base];
        INIT_CLASS_ENTRY_EX(ce, qualified, (size_t)n, c->base < 0 ? tsrb_php_error_methods : NULL);
        tsrb_php_classes[i] = zend_register_internal_class_ex(&ce, parent);
        if (c->base < 0) {
            zend_class_entry *e = tsrb_php_classes[i];
            zend_declare_property_null(e, "ruleFile", sizeof "ruleFile" - 1, ZEND_ACC_PROTECTED);
            zend_declare_property_null(e, "ruleLine", sizeof "ruleLine" - 1, ZEND_ACC_PROTECTED);
            zend_declare_property_null(e, "ruleColumn", sizeof "ruleColumn" - 1, ZEND_ACC_PROTECTED);
            zend_declare_property_null(e, "path", sizeof "path" - 1, ZEND_ACC_PROTECTED);
            zend_declare_property_string(e, "detail", sizeof "detail" - 1, "", ZEND_ACC_PROTECTED);
        }
    }
}

/* Throw the class the table gives for err; its message is the
 * "file:line:col: message" rendering, its code the TSR_E* status. */
static void tsrb_raise(const tsr_error *err, tsrb_context ctx)
{
    zend_class_entry *scope = tsrb_php_classes[TSRB_ERROR];
    zend_object *obj;
    char text[TSR_ERROR_TEXT_MAX + 2 * TSR_ERROR_PATH_MAX + 64];

    tsr_error_format(text, sizeof text, err);
    obj = zend_throw_exception(tsrb_php_classes[tsrb_class_of(err->code, ctx)], text, err->code);
    zend_update_property_string(scope, obj, "detail", sizeof "detail" - 1, err->message);
    if (err->file[0])
        zend_update_property_string(scope, obj, "ruleFile", sizeof "ruleFile" - 1, err->file);
    if (err->line > 0)
        zend_update_property_long(scope, obj, "ruleLine", sizeof "ruleLine" - 1, err->line);
    if (err->column > 0)
        zend_update_property_long(scope, obj, "ruleColumn", sizeof "ruleColumn" - 1, err->column);
    if (err->path[0])
        zend_update_property_string(scope, obj, "path", sizeof "path" - 1, err->path);
}
%}

%minit %{
    tsrb_php_register_classes();
%}

%apply (char *STRING, size_t LENGTH) { (const char *text, size_t len) };

%typemap(out, phptype="?string") tsrb_text {
    if ($1.text)
        ZVAL_STRINGL($result, $1.text, $1.len);
    else
        ZVAL_NULL($result);
    if ($1.release)
        $1.release($1.owner);
}
