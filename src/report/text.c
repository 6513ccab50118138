/* Text and file helpers shared by the charts and the report (see text.h). */
#include "text.h"

#include "common/xalloc.h"

#include <string.h>
#include <strings.h>

/* Length of the valid UTF-8 sequence at p, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
    static const unsigned int min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    unsigned int cp;
    size_t len;

    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xE0) == 0xC0) {
        len = 2;
        cp = p[0] & 0x1F;
    } else if ((p[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = p[0] & 0x0F;
    } else if ((p[0] & 0xF8) == 0xF0) {
        len = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

char *text_clean(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    char *out = xmalloc(strlen((const char *)p) + 1), *o = out;

    while (*p) {
        size_t len = utf8_len(p);
        if (len == 0 || (len == 1 && (*p < 0x20 || *p == 0x7F))) {
            *o++ = len == 0 ? '?' : ' ';
            p++;
        } else {
            memcpy(o, p, len);
            o += len;
            p += len;
        }
    }
    *o = '\0';
    return out;
}

int text_format_of(const char *path, enum text_format *fmt, struct err *err)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

    if (dot && !(slash && dot < slash)) {
        if (strcasecmp(dot, ".png") == 0)
            *fmt = FORMAT_PNG;
        else if (strcasecmp(dot, ".svg") == 0)
            *fmt = FORMAT_SVG;
        else if (strcasecmp(dot, ".pdf") == 0)
            *fmt = FORMAT_PDF;
        else
            dot = NULL;
        if (dot)
            return SWEEP_OK;
    }
    return err_set(err, SWEEP_EINVAL,
                   "%s: unknown image format; the file name must end in .png, .svg or "
                   ".pdf",
                   path);
}
