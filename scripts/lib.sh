# shellcheck shell=bash
# Shared by the check scripts, sourced after `SCRIPT=name`: their progress
# and failure lines, and the Debian packages they install when missing.
# Sourcing it also clears every TIDINGS_* variable of the caller's
# environment, so a check runs the config it names and nothing else.
for name in "${!TIDINGS_@}"; do unset "$name"; done

say() { echo "[$SCRIPT] $*" >&2; }
die() {
    echo "[$SCRIPT] FAILED: $*" >&2
    exit 1
}

# ensure_package COMMAND PACKAGE [NOTE]: installs PACKAGE with apt-get when
# COMMAND is not found (on PATH or in /usr/sbin); only root can, anyone else
# is told what to install. NOTE is added to the progress line.
ensure_package() {
    local command=$1 package=$2 note=${3:-}
    command -v "$command" >/dev/null 2>&1 && return 0
    [ -x "/usr/sbin/$command" ] && return 0
    [ "$(id -u)" = 0 ] || die "$command is missing; install it (apt-get install $package)"
    say "installing $package (apt-get install -y $package$note)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$package" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get install -y -q "$package" >/dev/null; } ||
        die "cannot install $package"
}
