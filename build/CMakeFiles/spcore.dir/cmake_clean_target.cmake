file(REMOVE_RECURSE
  "libspcore.a"
)
