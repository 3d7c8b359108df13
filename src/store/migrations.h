/* migrations.h — the numbered SQL migrations compiled into the binary (see cmake/). */
#ifndef SP_MIGRATIONS_H
#define SP_MIGRATIONS_H

struct sp_migration {
    int version;
    const char *name;
    const char *sql;
};

/* Terminated by {0, 0, 0}; sorted by version. */
extern const struct sp_migration sp_migrations_sqlite[];

#endif
