/* The registry rows as JSON: each model's description (`sweep models --json`), the
 * JSON Schema of its parameter object (MCP tool schemas, OpenAPI), and the list of
 * names the registry resolves (an `algorithm` enum). Shapes in schema.h. Everything
 * here reads the rows through model.h; O(models x parameters) per call. */
#include "schema.h"

#include "common/strbuf.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static json_t *schema_strings(const char *const *list)
{
    json_t *a = json_array();

    for (; list && *list; list++)
        json_array_append_new(a, json_string(*list));
    return a;
}

static void schema_set_str(json_t *obj, const char *key, const char *s)
{
    json_object_set_new(obj, key, s ? json_string(s) : json_null());
}

static bool schema_is_list(enum model_type t)
{
    return t == MODEL_INT_LIST || t == MODEL_REAL_LIST;
}

/* ---- descriptions: `sweep models --json` ---- */

static json_t *schema_describe_param(const struct model_param *p)
{
    json_t *o = json_object();
    json_t *def = model_param_default(p);

    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "type", json_string(model_type_name(p->type)));
    json_object_set_new(o, "required", json_boolean(!def));
    json_object_set_new(o, "default", def ? def : json_null());
    schema_set_str(o, "unit", p->unit);
    schema_set_str(o, "description", p->desc);
    json_object_set_new(o, "aliases", schema_strings(p->aliases));
    if (p->min.set)
        json_object_set_new(o, p->min.exclusive ? "exclusiveMinimum" : "minimum",
                            json_real(p->min.value));
    if (p->max.set)
        json_object_set_new(o, p->max.exclusive ? "exclusiveMaximum" : "maximum",
                            json_real(p->max.value));
    if (p->type == MODEL_ENUM) {
        json_t *values = schema_strings(p->choices), *map = json_object();
        for (const char *const *a = p->choice_aliases; a && *a; a += 2) {
            json_array_append_new(values, json_string(a[0]));
            json_object_set_new(map, a[0], json_string(a[1]));
        }
        json_object_set_new(o, "enum", values);
        json_object_set_new(o, "enum_aliases", map);
    }
    if (schema_is_list(p->type) && p->min_items)
        json_object_set_new(o, "minItems", json_integer((json_int_t)p->min_items));
    if (schema_is_list(p->type) && p->max_items)
        json_object_set_new(o, "maxItems", json_integer((json_int_t)p->max_items));
    return o;
}

json_t *model_schema_json(const struct model *m)
{
    json_t *o = json_object(), *params = json_array(), *metrics = json_array();
    json_t *names = json_array();

    for (size_t i = 0; i < m->nparams; i++)
        json_array_append_new(params, schema_describe_param(&m->params[i]));
    for (size_t i = 0; i < m->nmetrics; i++) {
        json_t *mo = json_object();
        json_object_set_new(mo, "name", json_string(m->metrics[i].name));
        schema_set_str(mo, "unit", m->metrics[i].unit);
        schema_set_str(mo, "description", m->metrics[i].desc);
        json_array_append_new(metrics, mo);
    }
    json_object_set_new(o, "name", json_string(m->name));
    schema_set_str(o, "summary", m->summary);
    schema_set_str(o, "description", m->description);
    schema_set_str(o, "example", m->example);
    json_object_set_new(o, "parameters", params);
    json_object_set_new(o, "metrics", metrics);
    for (size_t i = 0; i < model_alias_count(); i++) {
        const struct model_alias *a = model_alias_at(i);
        json_t *preset = NULL;
        if (strcmp(a->model, m->name) != 0)
            continue;
        model_resolve(a->name, &preset);
        json_array_append_new(
            names, json_pack("{s:s, s:o}", "name", a->name, "preset", preset));
    }
    json_object_set_new(o, "aliases", names);
    return o;
}

json_t *model_list_json(void)
{
    json_t *all = json_array();

    for (size_t i = 0; i < model_count(); i++)
        json_array_append_new(all, model_schema_json(model_at(i)));
    return all;
}

/* ---- the parameters' JSON Schema ---- */

/* A bound as JSON: an integer when it is one (exactly representable), else a real. */
static json_t *schema_number(double v)
{
    if (v == floor(v) && fabs(v) <= 0x1p53)
        return json_integer((json_int_t)v);
    return json_real(v);
}

/* The type and bounds of one value (a scalar parameter or a list's element). An
 * integer without a bound on a side is bounded there by int64, as the check is. */
static void schema_scalar(const struct model_param *p, json_t *o)
{
    static const char *const types[] = {
        [MODEL_INT] = "integer",      [MODEL_REAL] = "number",
        [MODEL_BOOL] = "boolean",     [MODEL_STRING] = "string",
        [MODEL_ENUM] = "string",      [MODEL_INT_LIST] = "integer",
        [MODEL_REAL_LIST] = "number",
    };
    bool integer = p->type == MODEL_INT || p->type == MODEL_INT_LIST;

    json_object_set_new(o, "type", json_string(types[p->type]));
    if (p->type == MODEL_ENUM) {
        json_t *values = schema_strings(p->choices);
        for (const char *const *a = p->choice_aliases; a && *a; a += 2)
            json_array_append_new(values, json_string(a[0]));
        json_object_set_new(o, "enum", values);
        return;
    }
    if (p->min.set)
        json_object_set_new(o, p->min.exclusive ? "exclusiveMinimum" : "minimum",
                            schema_number(p->min.value));
    else if (integer)
        json_object_set_new(o, "minimum", json_integer(INT64_MIN));
    if (p->max.set)
        json_object_set_new(o, p->max.exclusive ? "exclusiveMaximum" : "maximum",
                            schema_number(p->max.value));
    else if (integer)
        json_object_set_new(o, "maximum", json_integer(INT64_MAX));
}

/* The schema of parameter p's value, with its description (and unit) and, unless it
 * is for an alias, its default: the preset's value if it sets one, else the row's. */
static json_t *
schema_param(const struct model_param *p, const char *alias_of, const json_t *preset)
{
    json_t *def = json_object_get(preset, p->name), *o = json_object();
    struct strbuf desc = STRBUF_INIT;

    if (alias_of)
        sb_addf(&desc, "Another name for %s: ", alias_of);
    sb_adds(&desc, p->desc ? p->desc : "");
    if (p->unit)
        sb_addf(&desc, desc.len ? " (unit: %s)" : "Unit: %s.", p->unit);
    json_object_set_new(o, "description", json_string(sb_str(&desc)));
    sb_fini(&desc);
    if (schema_is_list(p->type)) {
        json_t *items = json_object();
        schema_scalar(p, items);
        json_object_set_new(o, "type", json_string("array"));
        json_object_set_new(o, "items", items);
        if (p->min_items)
            json_object_set_new(o, "minItems", json_integer((json_int_t)p->min_items));
        if (p->max_items)
            json_object_set_new(o, "maxItems", json_integer((json_int_t)p->max_items));
    } else {
        schema_scalar(p, o);
    }
    if (alias_of) {
        json_object_set_new(o, "deprecated", json_true());
    } else if (def) {
        json_object_set(o, "default", def);
    } else if (p->def) {
        json_object_set_new(o, "default", model_param_default(p));
    }
    return o;
}

/* [{"required": [name]}, ...] for every name of p (its own, then its aliases) but
 * `except`. */
static json_t *schema_required_any(const struct model_param *p, const char *except)
{
    json_t *any = json_array();

    if (!except || strcmp(p->name, except) != 0)
        json_array_append_new(any, json_pack("{s:[s]}", "required", p->name));
    for (const char *const *a = p->aliases; a && *a; a++)
        if (!except || strcmp(*a, except) != 0)
            json_array_append_new(any, json_pack("{s:[s]}", "required", *a));
    return any;
}

json_t *model_params_json_schema(const struct model *m, const json_t *preset)
{
    json_t *o = json_object(), *props = json_object(), *required = json_array();
    json_t *dependent = json_object(), *all = json_array();

    for (size_t i = 0; i < m->nparams; i++) {
        const struct model_param *p = &m->params[i];
        bool aliased = p->aliases && *p->aliases;

        json_object_set_new(props, p->name, schema_param(p, NULL, preset));
        for (const char *const *a = p->aliases; a && *a; a++) {
            json_object_set_new(props, *a, schema_param(p, p->name, NULL));
            json_object_set_new(
                dependent, *a,
                json_pack("{s:{s:o}}", "not", "anyOf", schema_required_any(p, *a)));
        }
        /* Required under any one of its names. */
        if (!p->def && !aliased)
            json_array_append_new(required, json_string(p->name));
        else if (!p->def)
            json_array_append_new(
                all, json_pack("{s:o}", "anyOf", schema_required_any(p, NULL)));
    }
    json_object_set_new(o, "type", json_string("object"));
    json_object_set_new(o, "description",
                        json_sprintf("Parameters of the model %s: %s", m->name,
                                     m->summary ? m->summary : ""));
    json_object_set_new(o, "properties", props);
    json_object_set_new(o, "additionalProperties", json_false());
    if (json_array_size(required))
        json_object_set_new(o, "required", required);
    else
        json_decref(required);
    if (json_object_size(dependent))
        json_object_set_new(o, "dependentSchemas", dependent);
    else
        json_decref(dependent);
    if (json_array_size(all))
        json_object_set_new(o, "allOf", all);
    else
        json_decref(all);
    return o;
}

/* ---- the names the registry resolves ---- */

static json_t *schema_capitals(const char *name)
{
    char *up = xstrdup(name);
    json_t *s;

    for (char *c = up; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    s = json_string(up);
    free(up);
    return s;
}

json_t *model_names_json(void)
{
    json_t *names = json_array(), *caps = json_array();

    for (size_t i = 0; i < model_count(); i++) {
        json_array_append_new(names, json_string(model_at(i)->name));
        json_array_append_new(caps, schema_capitals(model_at(i)->name));
    }
    for (size_t i = 0; i < model_alias_count(); i++) {
        json_array_append_new(names, json_string(model_alias_at(i)->name));
        json_array_append_new(caps, schema_capitals(model_alias_at(i)->name));
    }
    json_array_extend(names, caps);
    json_decref(caps);
    return names;
}

json_t *model_names_json_schema(void)
{
    return json_pack("{s:s, s:o, s:s}", "type", "string", "enum", model_names_json(),
                     "description",
                     "A built-in model (sweep models): its name or an alias, in lower "
                     "case or in capitals.");
}
