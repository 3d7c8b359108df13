
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/build/generated/migrations_sqlite.c" "CMakeFiles/spcore.dir/generated/migrations_sqlite.c.o" "gcc" "CMakeFiles/spcore.dir/generated/migrations_sqlite.c.o.d"
  "/work/main/src/api/routes.c" "CMakeFiles/spcore.dir/src/api/routes.c.o" "gcc" "CMakeFiles/spcore.dir/src/api/routes.c.o.d"
  "/work/main/src/util/alloc.c" "CMakeFiles/spcore.dir/src/util/alloc.c.o" "gcc" "CMakeFiles/spcore.dir/src/util/alloc.c.o.d"
  "/work/main/src/util/buf.c" "CMakeFiles/spcore.dir/src/util/buf.c.o" "gcc" "CMakeFiles/spcore.dir/src/util/buf.c.o.d"
  "/work/main/src/util/json.c" "CMakeFiles/spcore.dir/src/util/json.c.o" "gcc" "CMakeFiles/spcore.dir/src/util/json.c.o.d"
  "/work/main/src/util/log.c" "CMakeFiles/spcore.dir/src/util/log.c.o" "gcc" "CMakeFiles/spcore.dir/src/util/log.c.o.d"
  "/work/main/src/util/time.c" "CMakeFiles/spcore.dir/src/util/time.c.o" "gcc" "CMakeFiles/spcore.dir/src/util/time.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
