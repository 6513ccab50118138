/* Axis labels of a study's pictures from its model's table row (see model.h): shared
 * by `sweep plot` and the service's GET /studies/{id}/plot.svg. */
#include "models/model.h"

#include "common/strbuf.h"

#include <jansson.h>
#include <string.h>

/* An axis label longer than this would be cut on a default-sized chart. */
#define LABEL_MAX 56

const struct model *model_of_spec(const char *spec_json)
{
    json_t *spec = spec_json ? json_loads(spec_json, 0, NULL) : NULL;
    const char *name = json_string_value(json_object_get(spec, "model"));
    const struct model *m = name ? model_resolve(name, NULL) : NULL;

    json_decref(spec);
    return m;
}

char *model_axis_label(const struct model *m, const char *name, bool is_param)
{
    const char *unit = NULL, *desc = NULL;
    struct strbuf sb = STRBUF_INIT;
    size_t len = 0;

    if (m && is_param) {
        const struct model_param *p = model_param_find(m, name);
        unit = p ? p->unit : NULL;
        desc = p ? p->desc : NULL;
    }
    for (size_t i = 0; m && !is_param && i < m->nmetrics; i++) {
        if (strcmp(m->metrics[i].name, name) == 0) {
            unit = m->metrics[i].unit;
            desc = m->metrics[i].desc;
        }
    }
    if (desc) {
        while (desc[len] && desc[len] != ';' && strncmp(desc + len, ", ", 2) != 0 &&
               strncmp(desc + len, " (", 2) != 0)
            len++;
    }
    sb_adds(&sb, name);
    if (desc && len > 0 &&
        strlen(name) + 2 + len + (unit && *unit ? strlen(unit) + 3 : 0) <= LABEL_MAX)
        sb_addf(&sb, ": %.*s", (int)len, desc);
    if (unit && *unit)
        sb_addf(&sb, " (%s)", unit);
    return sb_take(&sb);
}
