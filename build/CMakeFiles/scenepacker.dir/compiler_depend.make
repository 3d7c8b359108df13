# Empty compiler generated dependencies file for scenepacker.
# This may be replaced when dependencies are built.
