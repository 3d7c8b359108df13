/* routes.c — every route table the server serves. Add one line per resource file. */
#include "api/api.h"

const struct sp_route *const sp_api_tables[] = {
    NULL,
};
