/* Unit tests of src/models/schema.c: the parameters' JSON Schema of every registered
 * model (and of a test-only row with every type, a required parameter and aliases) is
 * JSON Schema in form (known keywords only, types, bounds, defaults, enums) and says
 * what the model's own check says: for every parameter, at each bound, just past it,
 * just inside it, at int64's ends and for values of the wrong type, a small evaluator
 * of the keywords the schema uses accepts exactly what model_param_check and
 * model_params_check accept (model.check, the rules of combinations, may refuse more).
 * Also the registry's names (models, aliases, capitals) and the list of descriptions.
 * The e2e test t0033 checks the same schemas with a real validator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/jsonx.h"
#include "common/xalloc.h"
#include "models/model.h"
#include "models/schema.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A row with every type and bound kind, required parameters with and without an
 * alias, and an enum with a value alias; never registered. */
static const struct model_param toy_params[] = {
    {.name = "count",
     .type = MODEL_INT,
     .min = MODEL_EXCL(0),
     .max = MODEL_INCL(10),
     .desc = "count"},
    {.name = "rate",
     .type = MODEL_REAL,
     .def = "0.5",
     .min = MODEL_EXCL(0),
     .max = MODEL_EXCL(1.5),
     .unit = "1/s",
     .desc = "rate"},
    {.name = "flag", .type = MODEL_BOOL, .def = "false", .desc = "flag"},
    {.name = "label", .type = MODEL_STRING, .def = "\"a\"", .desc = "label"},
    {.name = "scheme",
     .type = MODEL_ENUM,
     .def = "\"d2q9\"",
     .choices = (const char *const[]){"d2q9", "d3q19", NULL},
     .choice_aliases = (const char *const[]){"D2Q9", "d2q9", NULL},
     .desc = "lattice"},
    {.name = "grid",
     .type = MODEL_INT_LIST,
     .def = "[64, 64]",
     .min = MODEL_INCL(8),
     .max = MODEL_INCL(1024),
     .min_items = 2,
     .max_items = 3,
     .desc = "grid size"},
    {.name = "weights",
     .type = MODEL_REAL_LIST,
     .def = "[]",
     .min = MODEL_INCL(-1e150),
     .max = MODEL_EXCL(0.25),
     .max_items = 4,
     .desc = "weights"},
    {.name = "num_particles",
     .type = MODEL_INT,
     .min = MODEL_INCL(1),
     .aliases = (const char *const[]){"num_particulas", "n", NULL},
     .desc = "particles"},
};

static const struct model toy = {
    .name = "toy",
    .summary = "test row",
    .description = "test row",
    .params = toy_params,
    .nparams = MODEL_COUNT(toy_params),
};

/* ---- a small evaluator of the keywords the schemas use ---- */

static const char *const sv_keywords[] = {
    "type",
    "enum",
    "minimum",
    "maximum",
    "items",
    "minItems",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "maxItems",
    "properties",
    "additionalProperties",
    "required",
    "not",
    "dependentSchemas",
    "anyOf",
    "allOf",
    "default",
    "description",
    "deprecated",
    NULL,
};
static const char *const sv_types[] = {"object",  "array",   "string", "number",
                                       "integer", "boolean", "null",   NULL};

static bool sv_in(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* Numbers compared exactly: int64 and double both fit a long double's mantissa. */
static long double sv_num(const json_t *v)
{
    return json_is_integer(v) ? (long double)json_integer_value(v)
                              : (long double)json_real_value(v);
}

/* JSON Schema's types: an integer is any number with a zero fractional part. */
static bool sv_type(const char *t, const json_t *v)
{
    if (strcmp(t, "integer") == 0)
        return json_is_integer(v) ||
               (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)));
    if (strcmp(t, "number") == 0)
        return json_is_number(v);
    if (strcmp(t, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(t, "string") == 0)
        return json_is_string(v);
    if (strcmp(t, "array") == 0)
        return json_is_array(v);
    if (strcmp(t, "object") == 0)
        return json_is_object(v);
    return json_is_null(v);
}

/* JSON Schema's equality: 1 and 1.0 are equal. */
static bool sv_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return sv_num(a) == sv_num(b);
    return json_equal(a, b);
}

static bool sv_valid(const json_t *s, const json_t *v);

static bool sv_object(const json_t *s, const json_t *v)
{
    const json_t *props = json_object_get(s, "properties"), *x;
    const json_t *dep = json_object_get(s, "dependentSchemas");
    const char *key;
    size_t i;

    json_array_foreach(json_object_get(s, "required"), i, x)
    {
        if (!json_object_get(v, json_string_value(x)))
            return false;
    }
    json_object_foreach((json_t *)v, key, x)
    {
        const json_t *ps = json_object_get(props, key);
        if (ps && !sv_valid(ps, x))
            return false;
        if (!ps && json_is_false(json_object_get(s, "additionalProperties")))
            return false;
        if (json_object_get(dep, key) && !sv_valid(json_object_get(dep, key), v))
            return false;
    }
    return true;
}

static bool sv_valid(const json_t *s, const json_t *v)
{
    const json_t *k, *x;
    size_t i;
    bool any = false;

    if ((k = json_object_get(s, "type")) && !sv_type(json_string_value(k), v))
        return false;
    if ((k = json_object_get(s, "enum"))) {
        json_array_foreach(k, i, x)
        {
            any |= sv_equal(x, v);
        }
        if (!any)
            return false;
    }
    if (json_is_number(v)) {
        long double d = sv_num(v);
        if ((k = json_object_get(s, "minimum")) && d < sv_num(k))
            return false;
        if ((k = json_object_get(s, "exclusiveMinimum")) && d <= sv_num(k))
            return false;
        if ((k = json_object_get(s, "maximum")) && d > sv_num(k))
            return false;
        if ((k = json_object_get(s, "exclusiveMaximum")) && d >= sv_num(k))
            return false;
    }
    if (json_is_array(v)) {
        size_t n = json_array_size(v);
        if ((k = json_object_get(s, "minItems")) && n < (size_t)json_integer_value(k))
            return false;
        if ((k = json_object_get(s, "maxItems")) && n > (size_t)json_integer_value(k))
            return false;
        json_array_foreach(v, i, x)
        {
            if ((k = json_object_get(s, "items")) && !sv_valid(k, x))
                return false;
        }
    }
    if (json_is_object(v) && !sv_object(s, v))
        return false;
    if ((k = json_object_get(s, "not")) && sv_valid(k, v))
        return false;
    if ((k = json_object_get(s, "allOf"))) {
        json_array_foreach(k, i, x)
        {
            if (!sv_valid(x, v))
                return false;
        }
    }
    if ((k = json_object_get(s, "anyOf"))) {
        any = false;
        json_array_foreach(k, i, x)
        {
            any |= sv_valid(x, v);
        }
        if (!any)
            return false;
    }
    return true;
}

/* The form of a schema and of every subschema: known keywords only, each with a value
 * of the type the specification gives it. */
static void sv_form(const json_t *s)
{
    const char *key;
    const json_t *v, *x;
    size_t i;

    assert_true(json_is_object(s));
    json_object_foreach((json_t *)s, key, v)
    {
        if (!sv_in(sv_keywords, key))
            fail_msg("unknown keyword \"%s\"", key);
        if (strcmp(key, "type") == 0)
            assert_true(json_is_string(v) && sv_in(sv_types, json_string_value(v)));
        else if (strcmp(key, "enum") == 0)
            assert_true(json_is_array(v) && json_array_size(v) > 0);
        else if (strstr(key, "imum"))
            assert_true(json_is_number(v));
        else if (strstr(key, "Items"))
            assert_true(json_is_integer(v) && json_integer_value(v) >= 0);
        else if (strcmp(key, "items") == 0 || strcmp(key, "not") == 0)
            sv_form(v);
        else if (strcmp(key, "properties") == 0 ||
                 strcmp(key, "dependentSchemas") == 0) {
            json_t *sub;
            const char *name;
            assert_true(json_is_object(v));
            json_object_foreach((json_t *)v, name, sub)
            {
                sv_form(sub);
            }
        } else if (strcmp(key, "anyOf") == 0 || strcmp(key, "allOf") == 0) {
            assert_true(json_is_array(v) && json_array_size(v) > 0);
            json_array_foreach(v, i, x)
            {
                sv_form(x);
            }
        } else if (strcmp(key, "required") == 0) {
            assert_true(json_is_array(v) && json_array_size(v) > 0);
            json_array_foreach(v, i, x)
            {
                assert_true(json_is_string(x));
            }
        } else if (strcmp(key, "additionalProperties") == 0 ||
                   strcmp(key, "deprecated") == 0)
            assert_true(json_is_boolean(v));
        else if (strcmp(key, "description") == 0)
            assert_true(json_is_string(v) && json_string_length(v) > 0);
    }
    /* A range that some value satisfies. */
    x = json_object_get(s, "minimum");
    if (!x)
        x = json_object_get(s, "exclusiveMinimum");
    v = json_object_get(s, "maximum");
    if (!v)
        v = json_object_get(s, "exclusiveMaximum");
    if (x && v)
        assert_true(sv_num(x) < sv_num(v) ||
                    (sv_num(x) == sv_num(v) && json_object_get(s, "minimum") &&
                     json_object_get(s, "maximum")));
}

/* ---- the schema's verdict against the model's checks ---- */

/* The required parameters of a row, with valid values: the base object of a case. */
static json_t *base_object(const struct model *m)
{
    return m == &toy ? json_pack("{s:i, s:i}", "count", 2, "num_particles", 1)
                     : json_object();
}

static void print_case(const struct model *m, const char *name, const json_t *v)
{
    char *text = jsonx_canon_str(v);
    print_error("model %s, parameter %s, value %s\n", m->name, name, text);
    free(text);
}

/* The schema and the checks agree on `name` (a parameter's name or alias) = v. */
static void
check_case(const struct model *m, const json_t *schema, const char *name, json_t *v)
{
    const struct model_param *p = model_param_find(m, name);
    const json_t *prop = json_object_get(json_object_get(schema, "properties"), name);
    struct model nocheck = *m;
    json_t *obj = base_object(m), *x;
    struct err err = {0};
    const char *key;
    void *tmp;
    bool sv, full, pc, pcs, pcs_nocheck;

    assert_non_null(p);
    assert_non_null(prop);
    /* The base object sets no other name of this parameter. */
    json_object_foreach_safe(obj, tmp, key, x)
    {
        if (model_param_find(m, key) == p)
            json_object_del(obj, key);
    }
    json_object_set(obj, name, v);
    nocheck.check = NULL;
    sv = sv_valid(prop, v);
    full = sv_valid(schema, obj);
    pc = model_param_check(m, name, v, &err) == SWEEP_OK;
    pcs_nocheck = model_params_check(&nocheck, obj, NULL, &err) == SWEEP_OK;
    pcs = model_params_check(m, obj, NULL, &err) == SWEEP_OK;
    if (sv != pc || full != sv || full != pcs_nocheck || (pcs && !full) ||
        (full && !pcs && !m->check)) {
        print_case(m, name, v);
        print_error("schema: %d (object %d), model_param_check: %d, "
                    "model_params_check: %d (without model.check: %d): %s\n",
                    sv, full, pc, pcs, pcs_nocheck, err.msg);
        fail();
    }
    json_decref(obj);
    json_decref(v);
}

/* v as the parameter's value: itself, or for a list a list of the shortest allowed
 * length (at least 1) made of v. */
static json_t *as_value(const struct model_param *p, json_t *v)
{
    json_t *list;
    size_t n = p->min_items ? p->min_items : 1;

    if (p->type != MODEL_INT_LIST && p->type != MODEL_REAL_LIST)
        return v;
    list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(list, v);
    json_decref(v);
    return list;
}

/* Values at, past and inside bound b, as reals and (when integral) as integers. */
static void bound_cases(const struct model *m,
                        const json_t *schema,
                        const char *name,
                        const struct model_param *p,
                        double b)
{
    double reals[] = {b, nextafter(b, -INFINITY), nextafter(b, INFINITY)};

    for (size_t i = 0; i < MODEL_COUNT(reals); i++)
        check_case(m, schema, name, as_value(p, json_real(reals[i])));
    if (b == floor(b) && fabs(b) < 0x1p62)
        for (int d = -1; d <= 1; d++)
            check_case(m, schema, name,
                       as_value(p, json_integer((json_int_t)b + (json_int_t)d)));
}

static void param_cases(const struct model *m,
                        const json_t *schema,
                        const char *name,
                        const struct model_param *p)
{
    const char *wrong[] = {"\"x\"", "true", "null", "{}",       "[]",    "1.5",
                           "2",     "-1",   "0",    "\"D2Q9\"", "[[1]]", "[\"a\"]"};
    bool integer = p->type == MODEL_INT || p->type == MODEL_INT_LIST;
    bool list = p->type == MODEL_INT_LIST || p->type == MODEL_REAL_LIST;
    json_t *def = model_param_default(p);

    for (size_t i = 0; i < MODEL_COUNT(wrong); i++) {
        json_t *v = json_loads(wrong[i], JSON_DECODE_ANY, NULL);
        check_case(m, schema, name, json_incref(v));
        check_case(m, schema, name, as_value(p, v));
    }
    if (def)
        check_case(m, schema, name, def);
    if (p->min.set)
        bound_cases(m, schema, name, p, p->min.value);
    if (p->max.set)
        bound_cases(m, schema, name, p, p->max.value);
    if (integer) {
        /* int64's ends: as integers inside, 2^63 as a real past them. */
        check_case(m, schema, name, as_value(p, json_integer(INT64_MIN)));
        check_case(m, schema, name, as_value(p, json_integer(INT64_MAX)));
        check_case(m, schema, name, as_value(p, json_real(0x1p63)));
        check_case(m, schema, name, as_value(p, json_real(-0x1p63)));
        check_case(m, schema, name, as_value(p, json_real(0x1p63 - 1024)));
        check_case(m, schema, name, as_value(p, json_real(-0x1p64)));
    }
    for (const char *const *c = p->choices; c && *c; c++)
        check_case(m, schema, name, json_string(*c));
    for (const char *const *a = p->choice_aliases; a && *a; a += 2)
        check_case(m, schema, name, json_string(a[0]));
    if (list) {
        /* Lengths around the limits, of a valid element. */
        bool near = p->min.set && fabs(p->min.value) < 1e15;
        json_t *elem = json_integer(near ? (json_int_t)ceil(p->min.value) + 1 : 0);
        size_t lens[] = {0, p->min_items, p->max_items, p->max_items + 1,
                         p->min_items ? p->min_items - 1 : 1};
        for (size_t i = 0; i < MODEL_COUNT(lens); i++) {
            json_t *v = json_array();
            for (size_t k = 0; k < lens[i]; k++)
                json_array_append(v, elem);
            check_case(m, schema, name, v);
        }
        json_decref(elem);
    }
}

/* The form of one property against its row. */
static void check_property(const struct model_param *p, const json_t *prop, bool alias)
{
    static const char *const types[] = {
        [MODEL_INT] = "integer",     [MODEL_REAL] = "number",
        [MODEL_BOOL] = "boolean",    [MODEL_STRING] = "string",
        [MODEL_ENUM] = "string",     [MODEL_INT_LIST] = "array",
        [MODEL_REAL_LIST] = "array",
    };
    const json_t *def = json_object_get(prop, "default");
    const char *desc = json_string_value(json_object_get(prop, "description"));
    json_t *want = model_param_default(p);

    assert_string_equal(json_string_value(json_object_get(prop, "type")),
                        types[p->type]);
    assert_non_null(desc);
    assert_non_null(strstr(desc, p->desc));
    if (p->unit)
        assert_non_null(strstr(desc, p->unit));
    if (alias || !want) {
        assert_null(def);
    } else {
        assert_true(json_equal(def, want));
        assert_true(sv_valid(prop, def));
    }
    assert_true(json_is_true(json_object_get(prop, "deprecated")) == alias);
    json_decref(want);
}

static void check_model(const struct model *m)
{
    json_t *schema = model_params_json_schema(m, NULL);
    const json_t *props = json_object_get(schema, "properties");
    size_t nnames = 0;
    json_t *obj;
    struct err err = {0};

    sv_form(schema);
    assert_string_equal(json_string_value(json_object_get(schema, "type")), "object");
    assert_true(json_is_false(json_object_get(schema, "additionalProperties")));
    for (size_t i = 0; i < m->nparams; i++) {
        const struct model_param *p = &m->params[i];
        check_property(p, json_object_get(props, p->name), false);
        param_cases(m, schema, p->name, p);
        nnames++;
        for (const char *const *a = p->aliases; a && *a; a++, nnames++) {
            check_property(p, json_object_get(props, *a), true);
            param_cases(m, schema, *a, p);
        }
    }
    assert_int_equal(json_object_size(props), nnames);

    /* Objects: empty, an unknown name, not an object. */
    obj = json_object();
    assert_int_equal(sv_valid(schema, obj),
                     model_params_check(m, obj, NULL, &err) == SWEEP_OK);
    json_object_set_new(obj, "no_such_parameter", json_integer(1));
    assert_false(sv_valid(schema, obj));
    json_decref(obj);
    obj = json_array();
    assert_false(sv_valid(schema, obj));
    assert_int_not_equal(model_params_check(m, obj, NULL, &err), SWEEP_OK);
    json_decref(obj);
    json_decref(schema);
}

static void test_params_schema_registry(void **state)
{
    (void)state;
    for (size_t i = 0; i < model_count(); i++)
        check_model(model_at(i));
}

/* The toy row: required parameters (one with aliases), and a parameter given under
 * two of its names, refused by the schema as by the check. */
static void test_params_schema_toy(void **state)
{
    static const struct {
        const char *in;
        bool ok;
    } cases[] = {
        {"{}", false},
        {"{\"count\": 1}", false},
        {"{\"count\": 1, \"num_particles\": 2}", true},
        {"{\"count\": 1, \"n\": 2}", true},
        {"{\"count\": 1, \"num_particulas\": 2}", true},
        {"{\"count\": 1, \"num_particulas\": 2, \"n\": 2}", false},
        {"{\"count\": 1, \"num_particles\": 2, \"n\": 2}", false},
        {"{\"count\": 0, \"num_particles\": 2}", false},
        {"{\"count\": 10, \"num_particles\": 2, \"scheme\": \"D2Q9\"}", true},
        {"{\"count\": 10.0, \"num_particles\": 2, \"weights\": [-1, 0.2]}", true},
        {"{\"count\": 10, \"num_particles\": 2, \"weights\": [0.25]}", false},
        {"{\"count\": 10, \"num_particles\": 2, \"grid\": [8, 1024, 9]}", true},
        {"{\"count\": 10, \"num_particles\": 2, \"grid\": [8, 1025]}", false},
    };
    json_t *schema = model_params_json_schema(&toy, NULL);
    json_t *required = json_object_get(schema, "required");
    struct err err = {0};

    (void)state;
    check_model(&toy);
    assert_int_equal(json_array_size(required), 1);
    assert_string_equal(json_string_value(json_array_get(required, 0)), "count");
    for (size_t i = 0; i < MODEL_COUNT(cases); i++) {
        json_t *in = json_loads(cases[i].in, 0, NULL);
        assert_non_null(in);
        if (sv_valid(schema, in) != cases[i].ok ||
            (model_params_check(&toy, in, NULL, &err) == SWEEP_OK) != cases[i].ok)
            fail_msg("%s: want %d (check: %s)", cases[i].in, cases[i].ok, err.msg);
        json_decref(in);
    }
    json_decref(schema);
}

/* A parameter's unit is in its description; the schema has no "$schema" (it is
 * embedded) and states every bound of the row. */
static void test_params_schema_shape(void **state)
{
    json_t *schema = model_params_json_schema(&toy, NULL);
    json_t *props = json_object_get(schema, "properties");
    json_t *rate = json_object_get(props, "rate"),
           *grid = json_object_get(props, "grid");
    char *text;

    (void)state;
    assert_null(json_object_get(schema, "$schema"));
    assert_string_equal(json_string_value(json_object_get(rate, "description")),
                        "rate (unit: 1/s)");
    assert_true(sv_num(json_object_get(rate, "exclusiveMaximum")) == 1.5L);
    text = jsonx_canon_str(json_object_get(grid, "items"));
    assert_string_equal(text, "{\"maximum\":1024,\"minimum\":8,\"type\":\"integer\"}");
    free(text);
    text = jsonx_canon_str(json_object_get(json_object_get(props, "scheme"), "enum"));
    assert_string_equal(text, "[\"d2q9\",\"d3q19\",\"D2Q9\"]");
    free(text);
    assert_null(json_object_get(json_object_get(props, "count"), "minimum"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(props, "count"),
                                                        "exclusiveMinimum")),
                     0);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(props, "count"), "maximum")),
        10);
    json_decref(schema);
}

/* Every name the registry resolves is in the list, and every name in the list
 * resolves: models, aliases, their capitals (the task-queue files' "DLA"). */
static void test_names(void **state)
{
    static const struct {
        const char *name, *model;
    } want[] = {
        {"DLA", "dla"},
        {"CCA", "cca"},
        {"BALLISTIC", "ballistic"},
        {"EDEN", "eden"},
        {"NAVIER-STOKES", "navier-stokes"},
        {"benchmark", "particles"},
        {"BENCHMARK_CYTHON", "particles"},
    };
    json_t *names = model_names_json(), *schema = model_names_json_schema(), *v;
    json_t *preset;
    size_t i;

    (void)state;
    sv_form(schema);
    assert_true(json_equal(json_object_get(schema, "enum"), names));
    assert_string_equal(json_string_value(json_object_get(schema, "type")), "string");
    assert_int_equal(json_array_size(names), 2 * (model_count() + model_alias_count()));
    json_array_foreach(names, i, v)
    {
        assert_non_null(model_resolve(json_string_value(v), NULL));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(json_string_value(v),
                                    json_string_value(json_array_get(names, j)));
    }
    for (i = 0; i < model_count(); i++) {
        json_t *s = json_string(model_at(i)->name);
        assert_true(sv_valid(schema, s));
        json_decref(s);
    }
    for (i = 0; i < model_alias_count(); i++) {
        json_t *s = json_string(model_alias_at(i)->name);
        assert_true(sv_valid(schema, s));
        json_decref(s);
    }
    for (i = 0; i < MODEL_COUNT(want); i++) {
        json_t *s = json_string(want[i].name);
        assert_true(sv_valid(schema, s));
        assert_ptr_equal(model_resolve(want[i].name, NULL), model_find(want[i].model));
        json_decref(s);
    }
    /* Capitals of an alias keep its preset; other cases are not names. */
    assert_ptr_equal(model_resolve("BENCHMARK", &preset), model_find("particles"));
    assert_string_equal(json_string_value(json_object_get(preset, "algorithm")),
                        "naive");
    json_decref(preset);
    preset = json_true();
    assert_ptr_equal(model_resolve("DLA", &preset), model_find("dla"));
    assert_null(preset);
    assert_null(model_resolve("Dla", NULL));
    assert_null(model_resolve("dLA", NULL));
    assert_null(model_resolve("DLA2", NULL));
    assert_null(model_resolve("123", NULL));
    assert_null(model_find("DLA"));
    v = json_string("Dla");
    assert_false(sv_valid(schema, v));
    json_decref(v);
    json_decref(names);
    json_decref(schema);
}

/* An alias's schema is its model's, with the preset's values as defaults. */
static void test_params_schema_alias(void **state)
{
    (void)state;
    for (size_t i = 0; i < model_alias_count(); i++) {
        json_t *preset, *schema, *plain, *v;
        const struct model *m = model_resolve(model_alias_at(i)->name, &preset);
        const char *key;

        assert_non_null(m);
        schema = model_params_json_schema(m, preset);
        plain = model_params_json_schema(m, NULL);
        assert_true(json_object_size(preset) > 0);
        json_object_foreach(preset, key, v)
        {
            json_t *prop = json_object_get(json_object_get(schema, "properties"), key);
            assert_true(json_equal(json_object_get(prop, "default"), v));
            assert_true(sv_valid(prop, v));
            /* Only the default differs. */
            json_object_del(json_object_get(json_object_get(plain, "properties"), key),
                            "default");
            json_object_del(prop, "default");
        }
        assert_true(json_equal(schema, plain));
        json_decref(schema);
        json_decref(plain);
        json_decref(preset);
    }
}

/* The list is every model's description in registry order. */
static void test_list(void **state)
{
    json_t *list = model_list_json();

    (void)state;
    assert_int_equal(json_array_size(list), model_count());
    for (size_t i = 0; i < model_count(); i++) {
        json_t *one = model_schema_json(model_at(i));
        assert_true(json_equal(json_array_get(list, i), one));
        json_decref(one);
    }
    json_decref(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_schema_registry),
        cmocka_unit_test(test_params_schema_toy),
        cmocka_unit_test(test_params_schema_shape),
        cmocka_unit_test(test_params_schema_alias),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
