# Shared by the fake libgpiod v2 tools (README.md beside this file). Sourced, not run, from
# <dir>/state/common.sh (a symlink made by test/support/fake-gpiod.ts).
# Only shell builtins run before a tool's banner or output: a process start costs ~15 ms on a small
# CI machine, and gpioset's start is the latency of a write the contract suite times against a 40 ms
# debounce.
# The simulated kernel is <dir>/state:
#   state/version                       the version the tools print (v2.2.1; a test writes v1.6.3)
#   state/chips/gpiochipN/{label,ngpio}
#   state/lines/gpiochipN/OFFSET/level  the electrical level, 0 or 1 (a wire: a symlink to another's)
#   state/lines/gpiochipN/OFFSET/owner  the pid of the process that requested the line; a request
#                                       whose process is gone is free, as the kernel frees the lines
#                                       of a process that exits
#   state/calls.log                     one line per run: the tool and its arguments
prog="$0"
tool="${0##*/}"
state="${0%/*}/../state"
printf '%s %s\n' "$tool" "$*" >>"$state/calls.log"

# tools-common.c print_error / die: "<argv0>: <message>" on stderr, exit status 1.
print_error() { printf '%s: %s\n' "$prog" "$1" >&2; }
die() { print_error "$1"; exit 1; }

print_version() {
  # Replayed from the real tool: test/fixtures/gpiod/<tool>-version.txt.
  read -r version <"$state/version"
  printf '%s (libgpiod) %s\n' "$tool" "$version"
  printf 'Copyright (C) 2017-2023 Bartosz Golaszewski\n'
  printf 'License: GPL-2.0-or-later\n'
  printf 'This is free software: you are free to change and redistribute it.\n'
  printf 'There is NO WARRANTY, to the extent permitted by law.\n'
}

# check_line CHIP OFFSET: the chip exists and the offset is on it, as resolve_lines does.
check_line() {
  chip_name="${1#/dev/}"
  [ -d "$state/chips/$chip_name" ] || die "cannot find GPIO chip character device '$1'"
  case "$2" in '' | *[!0-9]*) die "cannot find line '$2'" ;; esac
  read -r ngpio <"$state/chips/$chip_name/ngpio"
  [ "$2" -lt "$ngpio" ] || die "offset $2 is out of range on chip '$1'"
  line_dir="$state/lines/$chip_name/$2"
  [ -d "$line_dir" ] || mkdir -p "$line_dir"
}

# request MESSAGE: takes the line like GPIO_V2_GET_LINE_IOCTL, or dies with EBUSY. The owner file is
# created with O_EXCL (noclobber); a stale one is taken over.
request() {
  set -C
  if ! { printf '%s' "$$" >"$line_dir/owner"; } 2>/dev/null; then
    pid=''
    read -r pid <"$line_dir/owner"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then die "$1: Device or resource busy"; fi
    set +C
    printf '%s' "$$" >"$line_dir/owner"
  fi
  set +C
}

# The electrical level of the line; an undriven line follows its bias (pull-up: 1, else 0).
read_level() {
  if [ -f "$line_dir/level" ]; then
    read -r level <"$line_dir/level"
  elif [ "${1:-}" = pull-up ]; then level=1; else level=0; fi
}
