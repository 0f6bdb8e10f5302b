#!/usr/bin/env bash
# not-yet.sh fails a make target whose feature kinc does not have yet, saying
# what is missing. It never pretends: nothing was created.
set -o errexit -o nounset -o pipefail
echo "kinc cannot do this yet: $1 is not implemented." >&2
echo "Nothing was created. Track progress with the project's open issues; 'make test' works today." >&2
exit 2
