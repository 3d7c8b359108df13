/*
 * api.h — the route tables, one per resource file. Each table ends with {0}.
 * api/routes.c lists the tables the router serves.
 */
#ifndef SP_API_H
#define SP_API_H

#include "http/http.h"

/* NULL-terminated list of route tables. */
extern const struct sp_route *const sp_api_tables[];

#endif
