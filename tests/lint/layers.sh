#!/bin/sh
# The layer rule on the objects make test just built (tests/lint/layers.py):
# run by tests/run.sh with the unit tests; LAYERS_OBJDIR and LAYERS come
# from the Makefile.
exec python3 "$(dirname "$0")/layers.py" "${LAYERS_OBJDIR:?}" ${LAYERS:?}
