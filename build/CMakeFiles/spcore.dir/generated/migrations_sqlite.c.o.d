CMakeFiles/spcore.dir/generated/migrations_sqlite.c.o: \
 /work/main/build/generated/migrations_sqlite.c \
 /usr/include/stdc-predef.h /work/main/src/store/migrations.h
