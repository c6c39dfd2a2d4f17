# Shared by the package test's scripts, which run inside the test root:
# `check DESCRIPTION COMMAND...` prints "ok - DESCRIPTION" when the command
# succeeds, else "FAIL - DESCRIPTION" with the command's output, and exits.
set -euo pipefail

check() {
    local what="$1" out
    shift
    if out="$("$@" 2>&1)"; then
        echo "ok - $what"
    else
        echo "FAIL - $what"
        echo "   command: $*"
        printf '%s\n' "$out" | sed 's/^/   | /' | tail -n 40
        exit 1
    fi
}

# `contains HAYSTACK NEEDLE...`: every needle occurs in the text.
contains() {
    local text="$1" needle
    shift
    for needle in "$@"; do
        if ! grep -qF -- "$needle" <<<"$text"; then
            echo "missing: $needle"
            printf '%s\n' "$text"
            return 1
        fi
    done
}

# `wait_for SECONDS DESCRIPTION COMMAND...`: retry every half second.
wait_for() {
    local seconds="$1" what="$2" i
    shift 2
    for ((i = 0; i < seconds * 2; i++)); do
        if "$@" >/dev/null 2>&1; then
            echo "ok - $what"
            return 0
        fi
        sleep 0.5
    done
    echo "FAIL - $what (not within $seconds s)"
    "$@" 2>&1 | sed 's/^/   | /' | tail -n 20 || true
    return 1
}
