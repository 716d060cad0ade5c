#!/usr/bin/env bash
# The unit and integration suites again, with agentd and the unit tests
# built with ASan and UBSan (make test SAN=1). Its last line is its total.
set -u
cd "$(dirname "$0")/../.."
exec make --no-print-directory test SAN=1 SUITES=
