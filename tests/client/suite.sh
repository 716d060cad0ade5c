#!/usr/bin/env bash
# The TypeScript client's tests against a real agentd (clients/typescript).
exec "$(cd "$(dirname "$0")/../.." && pwd)/clients/typescript/run.sh" "$@"
