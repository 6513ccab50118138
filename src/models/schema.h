/* The models' schemas as JSON, built once from the registry rows (model.h) below the
 * front ends: `sweep models --json` prints them, and the REST API's OpenAPI document
 * and the MCP tools' input schemas embed the same objects, so a parameter's type,
 * range, default and unit are never written twice. Every function returns a new
 * reference that the caller owns; none fails (the rows are code, checked by the unit
 * tests).
 *
 * Shapes (members in this order):
 *
 * description (model_schema_json): {"name", "summary", "description", "example",
 * "parameters": [{"name", "type" (model_type_name), "required", "default" (typed, or
 * null when required), "unit", "description", "aliases": [names], then the range under
 * JSON Schema's names: "minimum" or "exclusiveMinimum", "maximum" or
 * "exclusiveMaximum" (reals), for enums "enum" (the choices, then their aliases) and
 * "enum_aliases" ({alias: choice}), for lists "minItems", "maxItems"}], "metrics":
 * [{"name", "unit", "description"}], "aliases": [{"name", "preset": {...}}]}; a
 * missing unit, description or example is null.
 *
 * parameters' JSON Schema (model_params_json_schema): a draft 2020-12 schema of the
 * parameter object that model_params_check takes: {"type": "object", "description",
 * "properties": {NAME: {"description" (with the unit), "type", then "minimum" or
 * "exclusiveMinimum", "maximum" or "exclusiveMaximum" (or "enum"; a list has "items"
 * with these, "minItems", "maxItems"), "default" (an alias's preset value, else the
 * row's)}}, "additionalProperties": false}, then "required" when a parameter has no
 * default. Integers are bounded by int64 where the row sets no bound, as the check
 * is. A parameter's other name (particles' "semilla") is a property of its own,
 * without a default and marked "deprecated", and "dependentSchemas" refuses it beside
 * another name of the same parameter (the check's "given twice"); a required
 * parameter with other names is required under any one of them ("allOf" of
 * "anyOf"s). It has no "$schema": it is meant to be embedded (an MCP tool's
 * inputSchema, an OpenAPI 3.1 document), whose root names the dialect. What it cannot
 * state: a model's own check of combinations (model.check: a square grid, memory, a
 * stable step), which only model_params_check applies.
 *
 * model names (model_names_json): every name model_resolve accepts, as an array:
 * the models in registry order, then the aliases, then the capitalised form of each
 * ("DLA", "BENCHMARK"): what an `algorithm` enum lists. */
#ifndef SWEEP_MODELS_SCHEMA_H
#define SWEEP_MODELS_SCHEMA_H

#include "models/model.h"

#include <jansson.h>

/* One model's description: `sweep models MODEL --json`. */
json_t *model_schema_json(const struct model *m);
/* Every model's description in registry order: `sweep models --json`. */
json_t *model_list_json(void);
/* The JSON Schema of m's parameter object (see above): `sweep models MODEL
 * --json-schema`, MCP tool schemas, OpenAPI. preset: an alias's preset parameters
 * (model_resolve), whose values become the defaults, or NULL. */
json_t *model_params_json_schema(const struct model *m, const json_t *preset);
/* Every name model_resolve accepts (see above). */
json_t *model_names_json(void);
/* {"type": "string", "enum": model_names_json(), "description"}: the JSON Schema of a
 * model's name, for an `algorithm` or `model` member. `sweep models --json-schema`. */
json_t *model_names_json_schema(void);

#endif
