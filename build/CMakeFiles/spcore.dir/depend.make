# Empty dependencies file for spcore.
# This may be replaced when dependencies are built.
