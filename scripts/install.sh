#!/usr/bin/env bash
# Installs edge-agent on a gateway as a systemd service, from a built checkout (`npm ci && npm run
# build` first; run this on the device, or on a machine of the same architecture, since the native
# modules — serialport, i2c-bus, epoll — are compiled for it):
#
#   sudo scripts/install.sh [--prefix /opt/edge-agent] [--no-start] [--destdir DIR]
#
# What it does, each step safe to repeat:
#   1. copies the built agent (dist/, boards/, the example wiring/, package files, README) to PREFIX
#      and installs its production dependencies there (npm ci --omit=dev);
#   2. creates the system user `edge-agent` (no login, no home) in the groups gpio, i2c, dialout and
#      bluetooth — creating any of those groups that the OS lacks — and nothing else;
#   3. installs udev rules so those groups own the GPIO, I2C and serial device nodes;
#   4. creates /etc/edge-agent (0750, root:edge-agent) with a starter agent.yaml if there is none;
#   5. installs edge-agent.service, a polkit rule that lets the agent's user (only) reboot the
#      gateway (the console's `reboot`), and /usr/local/bin/edge-agent;
#   6. enables and starts the service (unless --no-start).
# --destdir DIR writes every file under DIR and skips what changes the running system (users,
# groups, udev, systemctl, npm): for packaging, and for the installer's own test.
set -euo pipefail

prefix=/opt/edge-agent
destdir=
start=1
while (($#)); do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --destdir) destdir="$(realpath -m "$2")"; shift 2 ;;
    --no-start) start=0; shift ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

src="$(cd "$(dirname "$0")/.." && pwd)"
user=edge-agent
groups=(gpio i2c dialout bluetooth)
system() { [[ -z "$destdir" ]]; }
run() { if system; then "$@"; else echo "install.sh: would run: $*"; fi; }

if system && [[ $EUID -ne 0 ]]; then
  echo "install.sh: run as root (sudo), or with --destdir DIR to stage the files" >&2
  exit 1
fi
if [[ ! -f "$src/dist/agent/main.js" ]]; then
  echo "install.sh: $src/dist is missing: run 'npm ci && npm run build' first" >&2
  exit 1
fi
node_bin="$(command -v node || true)"
if [[ -z "$node_bin" ]]; then
  echo "install.sh: node (>= 20.19) is not on PATH" >&2
  exit 1
fi

echo "install.sh: 1/6 the agent -> $destdir$prefix"
install -d -m 0755 "$destdir$prefix"
# PREFIX/boards and PREFIX/wiring are the shipped ones, replaced on every install: a site's own wiring
# lives in /etc/edge-agent, next to agent.yaml.
rm -rf "$destdir$prefix/dist" "$destdir$prefix/boards" "$destdir$prefix/wiring"
cp -R "$src/dist" "$src/boards" "$src/wiring" "$destdir$prefix/"
install -m 0644 "$src/package.json" "$src/package-lock.json" "$src/README.md" "$destdir$prefix/"
install -m 0644 "$src/scripts/edge-agent.service" "$destdir$prefix/edge-agent.service"
if system; then
  (cd "$prefix" && npm ci --omit=dev --no-audit --no-fund)
fi

echo "install.sh: 2/6 user $user in groups ${groups[*]}"
for g in "${groups[@]}"; do
  if system && ! getent group "$g" >/dev/null; then groupadd --system "$g"; fi
done
if system && ! getent passwd "$user" >/dev/null; then
  useradd --system --user-group --home-dir /var/lib/edge-agent --no-create-home \
    --shell /usr/sbin/nologin --comment "edge-agent service" "$user"
fi
run usermod --append --groups "$(IFS=,; echo "${groups[*]}")" "$user"

echo "install.sh: 3/6 udev rules"
install -d -m 0755 "$destdir/etc/udev/rules.d"
cat >"$destdir/etc/udev/rules.d/99-edge-agent.rules" <<'EOF'
# edge-agent (scripts/install.sh): the agent's groups own the devices it drives.
# GPIO character devices, and the sysfs GPIO interface that onoff uses (export, then each line).
SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"
SUBSYSTEM=="gpio", ACTION=="add", PROGRAM="/bin/sh -c 'chgrp -R gpio /sys/class/gpio && chmod -R g=u /sys/class/gpio'"
SUBSYSTEM=="gpio", ACTION=="add", PROGRAM="/bin/sh -c 'chgrp -R gpio /sys%p && chmod -R g=u /sys%p'"
# I2C buses (i2c-dev).
SUBSYSTEM=="i2c-dev", GROUP="i2c", MODE="0660"
# UARTs, USB serial adapters and the USB gadget serial port (the technician's console).
SUBSYSTEM=="tty", KERNEL=="ttyS[0-9]*|ttyAMA[0-9]*|ttyUSB[0-9]*|ttyACM[0-9]*|ttyGS[0-9]*|ttyTHS[0-9]*", GROUP="dialout", MODE="0660"
EOF
run udevadm control --reload-rules
run udevadm trigger --subsystem-match=gpio --subsystem-match=i2c-dev --subsystem-match=tty

echo "install.sh: 4/6 configuration in $destdir/etc/edge-agent"
install -d -m 0750 "$destdir/etc/edge-agent"
if [[ ! -f "$destdir/etc/edge-agent/agent.yaml" ]]; then
  cat >"$destdir/etc/edge-agent/agent.yaml" <<EOF
# edge-agent configuration (README.md, "Configuration"). The board profile is detected from
# /proc/device-tree/model; set board: $prefix/boards/<name>.yaml to choose one.
version: 1
# What is wired to the board: devices listed here under devices:, or wiring files (relative to this
# file). The chamber kit of each shipped board is an example, e.g.:
# wiring: $prefix/wiring/chamber-kit-rpi4.yaml
console:
  # The technician's serial console, e.g. the USB gadget port or the UART on the header:
  # serial: { path: /dev/ttyGS0, baudRate: 115200 }
  # Users: add the lines that 'edge-agent passwd --user tech' prints.
  users: []
EOF
  chmod 0640 "$destdir/etc/edge-agent/agent.yaml"
fi
run chown -R "root:$user" /etc/edge-agent

echo "install.sh: 5/6 systemd unit, polkit rule, command"
install -d -m 0755 "$destdir/etc/systemd/system" "$destdir/usr/local/bin"
sed -e "s#^ExecStart=/usr/bin/node #ExecStart=$node_bin #" -e "s#/opt/edge-agent#$prefix#g" \
  "$src/scripts/edge-agent.service" >"$destdir/etc/systemd/system/edge-agent.service"
chmod 0644 "$destdir/etc/systemd/system/edge-agent.service"
if system && [[ ! -d /etc/polkit-1/rules.d ]]; then
  echo "install.sh: no /etc/polkit-1/rules.d: the console's reboot will be refused (install polkitd)"
else
  install -d -m 0755 "$destdir/etc/polkit-1/rules.d"
  cat >"$destdir/etc/polkit-1/rules.d/50-edge-agent.rules" <<'EOF'
// edge-agent (scripts/install.sh): the service user may reboot the gateway, and nothing else.
polkit.addRule(function (action, subject) {
  if (subject.user == "edge-agent" &&
      (action.id == "org.freedesktop.login1.reboot" ||
       action.id == "org.freedesktop.login1.reboot-multiple-sessions")) {
    return polkit.Result.YES;
  }
});
EOF
fi
cat >"$destdir/usr/local/bin/edge-agent" <<EOF
#!/bin/sh
exec $node_bin $prefix/dist/agent/main.js "\$@"
EOF
chmod 0755 "$destdir/usr/local/bin/edge-agent"

echo "install.sh: 6/6 service"
run systemctl daemon-reload
if ((start)); then
  run systemctl enable --now edge-agent.service
else
  run systemctl enable edge-agent.service
fi
echo "install.sh: done. Console users: 'edge-agent passwd --user tech' -> /etc/edge-agent/agent.yaml;"
echo "  technicians on SSH join group $user and run 'edge-agent console'."
