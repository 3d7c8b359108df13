file(REMOVE_RECURSE
  "CMakeFiles/spcore.dir/generated/migrations_sqlite.c.o"
  "CMakeFiles/spcore.dir/generated/migrations_sqlite.c.o.d"
  "CMakeFiles/spcore.dir/src/api/routes.c.o"
  "CMakeFiles/spcore.dir/src/api/routes.c.o.d"
  "CMakeFiles/spcore.dir/src/util/alloc.c.o"
  "CMakeFiles/spcore.dir/src/util/alloc.c.o.d"
  "CMakeFiles/spcore.dir/src/util/buf.c.o"
  "CMakeFiles/spcore.dir/src/util/buf.c.o.d"
  "CMakeFiles/spcore.dir/src/util/json.c.o"
  "CMakeFiles/spcore.dir/src/util/json.c.o.d"
  "CMakeFiles/spcore.dir/src/util/log.c.o"
  "CMakeFiles/spcore.dir/src/util/log.c.o.d"
  "CMakeFiles/spcore.dir/src/util/time.c.o"
  "CMakeFiles/spcore.dir/src/util/time.c.o.d"
  "generated/migrations_sqlite.c"
  "libspcore.a"
  "libspcore.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/spcore.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
