#!/usr/bin/env bash
# The OpenAPI document: validated, and checked against the server's routes.
exec "$(cd "$(dirname "$0")" && pwd)/run.sh" "$@"
