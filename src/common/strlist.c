/* Lists of strings written as "a,b,c" (see strlist.h). */
#include "common/strlist.h"

#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

int strlist_split(const char *s, char ***out, size_t *n)
{
    char **v = NULL;
    size_t cap = 0;

    *n = 0;
    *out = NULL;
    while (*s) {
        size_t len = strcspn(s, ",");
        if (len == 0 || (s[len] == ',' && s[len + 1] == '\0')) {
            strlist_free(v, *n);
            *n = 0;
            return -1;
        }
        v = xgrow(v, &cap, *n + 1, sizeof(char *));
        v[(*n)++] = xstrndup(s, len);
        s += len + (s[len] == ',');
    }
    *out = v;
    return 0;
}

void strlist_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
