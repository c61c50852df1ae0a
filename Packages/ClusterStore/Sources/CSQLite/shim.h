// CSQLite: the system libsqlite3 plus wrappers for what Swift cannot import directly.
// Swift cannot call C variadic functions (sqlite3_config, sqlite3_db_config) nor import
// pointer-casting macros (SQLITE_TRANSIENT, SQLITE_STATIC), so they are wrapped here.
#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H

#include <sqlite3.h>

/// sqlite3_db_config for the "int int*" options (SQLITE_DBCONFIG_DEFENSIVE, SQLITE_DBCONFIG_DQS_DML, ...).
/// Pass a negative `value` to only read the current setting into `*result` (which may be NULL).
static inline int csqlite_db_config_int(sqlite3 *db, int op, int value, int *result) {
    return sqlite3_db_config(db, op, value, result);
}

/// sqlite3_config(SQLITE_CONFIG_LOG, callback, context): process-wide error log. Call before any connection opens.
static inline int csqlite_config_log(void (*callback)(void *context, int code, const char *message), void *context) {
    return sqlite3_config(SQLITE_CONFIG_LOG, callback, context);
}

/// sqlite3_config for options that take no argument (SQLITE_CONFIG_SINGLETHREAD, _MULTITHREAD, _SERIALIZED).
static inline int csqlite_config_noarg(int op) {
    return sqlite3_config(op);
}

/// SQLITE_TRANSIENT: sqlite copies the bound bytes before the bind call returns.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

/// SQLITE_STATIC: the caller keeps the bound bytes alive until the statement is reset or rebound.
static inline sqlite3_destructor_type csqlite_static(void) {
    return SQLITE_STATIC;
}

#endif /* CSQLITE_SHIM_H */
