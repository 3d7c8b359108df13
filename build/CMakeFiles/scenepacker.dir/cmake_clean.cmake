file(REMOVE_RECURSE
  "CMakeFiles/scenepacker.dir/src/main.c.o"
  "CMakeFiles/scenepacker.dir/src/main.c.o.d"
  "scenepacker"
  "scenepacker.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/scenepacker.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
