/* The OpenAPI document of the REST API: src/server/openapi.json, embedded in the
 * binary at build time (scripts/embed.cmake writes it as a C array) and served as is
 * at GET /openapi.json. The test tests/node/openapi.test.mjs checks the document with
 * an OpenAPI validator and every JSON answer of the service against its schemas, so a
 * change of a shape (core/view.c, the handlers) comes with its change here. */
#ifndef SWEEP_SERVER_OPENAPI_H
#define SWEEP_SERVER_OPENAPI_H

#include <stddef.h>

/* The document's bytes (NUL-terminated, the NUL not counted in openapi_json_len). */
extern const unsigned char openapi_json[];
extern const size_t openapi_json_len;

#endif
