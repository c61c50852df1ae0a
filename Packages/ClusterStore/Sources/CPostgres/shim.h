// libpq, PostgreSQL's C client library (Debian's libpq-dev), for the PostgreSQL store (issue 19).
#include <libpq-fe.h>
