/*
 * tessera_python.i — what the Python binding does differently, included by
 * ../swig/tessera.i: the exception classes of the shared table created as
 * tessera.Error and its subclasses, tsrb_raise(), the GIL released around
 * C work, and str <-> UTF-8 text without copies.
 */

%{
#define TSRB_BEGIN_C Py_BEGIN_ALLOW_THREADS
#define TSRB_END_C   Py_END_ALLOW_THREADS

static PyObject *tsrb_py_classes[TSRB_CLASS_COUNT];

/* A str from a C string that may have been cut inside a UTF-8 sequence
 * (tsr_error truncates long text). */
static PyObject *tsrb_py_str(const char *s)
{
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static int tsrb_py_set(PyObject *exc, const char *name, PyObject *value)
{
    int rc;
    if (!value)
        return -1;
    rc = PyObject_SetAttrString(exc, name, value);
    Py_DECREF(value);
    return rc;
}

/* Raise the class the table gives for err, with the error's fields as
 * attributes: code, message, file, line, column, path (None when unknown);
 * str(exc) is the "file:line:col: message" rendering. */
static void tsrb_raise(const tsr_error *err, tsrb_context ctx)
{
    PyObject *cls = tsrb_py_classes[tsrb_class_of(err->code, ctx)];
    PyObject *exc, *what;
    char text[TSR_ERROR_TEXT_MAX + 2 * TSR_ERROR_PATH_MAX + 64];

    tsr_error_format(text, sizeof text, err);
    if (!(what = tsrb_py_str(text)))
        return;
    exc = PyObject_CallFunctionObjArgs(cls, what, NULL);
    Py_DECREF(what);
    if (!exc)
        return;
    if (tsrb_py_set(exc, "code", PyLong_FromLong(err->code)) < 0
        || tsrb_py_set(exc, "message", tsrb_py_str(err->message)) < 0
        || (err->file[0] && tsrb_py_set(exc, "file", tsrb_py_str(err->file)) < 0)
        || (err->line > 0 && tsrb_py_set(exc, "line", PyLong_FromLong(err->line)) < 0)
        || (err->column > 0 && tsrb_py_set(exc, "column", PyLong_FromLong(err->column)) < 0)
        || (err->path[0] && tsrb_py_set(exc, "path", tsrb_py_str(err->path)) < 0)) {
        Py_DECREF(exc);
        return;
    }
    PyErr_SetObject(cls, exc);
    Py_DECREF(exc);
}

/* Create the classes of the table as tessera.<Name>; class attributes give
 * every field its "unknown" default. */
static int tsrb_py_create_classes(PyObject *module)
{
    static const char *const fields[] = { "code", "message", "file", "line", "column", "path" };
    int i;
    size_t f;

    for (i = 0; i < TSRB_CLASS_COUNT; i++) {
        const tsrb_class_info *c = &tsrb_classes[i];
        PyObject *base = c->base < 0 ? PyExc_Exception : tsrb_py_classes[c->base];
        PyObject *dict = PyDict_New();
        char qualified[64];

        if (!dict)
            return -1;
        if (c->base < 0) {
            for (f = 0; f < sizeof fields / sizeof fields[0]; f++)
                if (PyDict_SetItemString(dict, fields[f], Py_None) < 0)
                    goto fail;
        }
        snprintf(qualified, sizeof qualified, "tessera.%s", c->name);
        tsrb_py_classes[i] = PyErr_NewExceptionWithDoc(qualified, c->doc, base, dict);
        Py_DECREF(dict);
        if (!tsrb_py_classes[i])
            return -1;
        Py_INCREF(tsrb_py_classes[i]);   /* one for the module, one kept here */
        if (PyModule_AddObject(module, c->name, tsrb_py_classes[i]) < 0) {
            Py_DECREF(tsrb_py_classes[i]);
            return -1;
        }
        continue;
fail:
        Py_DECREF(dict);
        return -1;
    }
    return 0;
}
%}

%init %{
    if (tsrb_py_create_classes(m) < 0)
        return NULL;
%}

/* str (UTF-8, cached by the str itself) or bytes, without a copy. */
%typemap(in) (const char *text, size_t len) (Py_ssize_t n) {
    if (PyUnicode_Check($input)) {
        $1 = ($1_ltype)PyUnicode_AsUTF8AndSize($input, &n);
        if (!$1)
            SWIG_fail;
    } else if (PyBytes_Check($input)) {
        char *p;
        if (PyBytes_AsStringAndSize($input, &p, &n) < 0)
            SWIG_fail;
        $1 = ($1_ltype)p;
    } else {
        PyErr_SetString(PyExc_TypeError, "expected str or bytes");
        SWIG_fail;
    }
    $2 = ($2_ltype)n;
}

%typemap(out) tsrb_text {
    if ($1.text) {
        $result = PyUnicode_DecodeUTF8($1.text, (Py_ssize_t)$1.len, "strict");
    } else {
        Py_INCREF(Py_None);
        $result = Py_None;
    }
    if ($1.release)
        $1.release($1.owner);
    if (!$result)
        SWIG_fail;
}

/* For tessera._codec: whether a float is anywhere in an order (dicts, lists
 * and tuples), at C speed.  Money is never a binary fraction, so the codec
 * refuses a float with its path, which it looks for only when this says
 * there is one.  Called after the JSON encoder took the order, so the
 * order holds no cycle and nests no deeper than Python's recursion limit. */
%{
static int tsrb_py_has_float(PyObject *o)
{
    if (PyFloat_Check(o))
        return 1;
    if (PyDict_Check(o)) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(o, &pos, &key, &value))
            if (tsrb_py_has_float(value))
                return 1;
    } else if (PyList_Check(o) || PyTuple_Check(o)) {
        Py_ssize_t i, n = PySequence_Fast_GET_SIZE(o);
        for (i = 0; i < n; i++)
            if (tsrb_py_has_float(PySequence_Fast_GET_ITEM(o, i)))
                return 1;
    }
    return 0;
}
%}

%rename(has_float) tsrb_py_has_float;
%typemap(out) int tsrb_py_has_float "$result = PyBool_FromLong($1);";
int tsrb_py_has_float(PyObject *o);
