#!/usr/bin/env bash
# Installs the gateway as a systemd service on a Raspberry Pi (linux-arm64) or an industrial PC (linux-x64).
#
#   sudo deploy/install.sh --config agro-food-packaging          # publish here, install, enable, start
#   sudo deploy/install.sh --from ./out --config my-line.json    # install an already published folder
#
# Options:
#   --config NAME|FILE  example config (a name from config/examples/) or a file, written to /etc/gateway/gateway.json
#                       (an existing /etc/gateway/gateway.json is kept unless --force-config; default: config/gateway.json)
#   --arch arm64|x64    target runtime (default: this machine's)
#   --from DIR          install a folder made by 'dotnet publish -r linux-ARCH' (native AOT or --self-contained) instead of publishing
#   --no-aot            publish the trimmed self-contained build even where the native AOT one can be made
#   --force-config      replace an existing /etc/gateway/gateway.json (the old one is kept as gateway.json.bak)
#   --no-start          install and enable, but do not start now
#   --dry-run           print every step it would take, change nothing (no root needed, nothing published)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# GATEWAY_INSTALL_ROOT: a folder the target paths are put under (an image being built, the tests); default /.
root=${GATEWAY_INSTALL_ROOT:-}
prefix=$root/opt/gateway
config_dir=$root/etc/gateway
unit=$root/etc/systemd/system/gateway.service
udev_rules=$root/etc/udev/rules.d/60-gateway-devices.rules
state_dir=$root/var/lib/gateway
dry_run=0
config=""
arch=""
from=""
force_config=0
start=1
aot=1

while [ $# -gt 0 ]; do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --from) from=$2; shift 2 ;;
    --no-aot) aot=0; shift ;;
    --force-config) force_config=1; shift ;;
    --no-start) start=0; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# run CMD...: runs it, or with --dry-run prints it (every change below goes through run or write).
run() {
  if [ "$dry_run" -eq 1 ]; then
    printf 'would run:'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}

# write FILE: writes standard input to FILE, or with --dry-run prints what it would write.
write() {
  if [ "$dry_run" -eq 1 ]; then
    echo "would write $1:"
    sed 's/^/    /'
  else
    cat > "$1"
  fi
}

if [ "$dry_run" -eq 1 ]; then
  echo "install.sh --dry-run: nothing is changed; these are the steps it would take."
elif [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo)" >&2
  exit 2
fi

if [ -z "$arch" ]; then
  case "$(uname -m)" in
    aarch64|arm64) arch=arm64 ;;
    x86_64|amd64) arch=x64 ;;
    *) echo "install.sh: unsupported machine $(uname -m); pass --arch arm64 or --arch x64" >&2; exit 2 ;;
  esac
fi
case "$arch" in arm64|x64) ;; *) echo "install.sh: --arch must be arm64 or x64" >&2; exit 2 ;; esac

# 1. The build: no .NET runtime needed on the target. The native AOT build (docs/performance.md, sixth round: ~30 %
#    less memory and CPU than the trimmed one, start-up in a third of the time) where it can be made: for this machine's
#    own architecture (a cross build to arm64 needs an arm64 sysroot and linker: publish on the Pi itself), with clang
#    (Debian: clang) and zlib (zlib1g-dev). Otherwise the trimmed self-contained build (runs the same, more memory).
host_arch=$(case "$(uname -m)" in aarch64|arm64) echo arm64 ;; x86_64|amd64) echo x64 ;; *) echo other ;; esac)
aot_why=""
if [ "$aot" -eq 0 ]; then aot_why="--no-aot"
elif [ "$arch" != "$host_arch" ]; then aot_why="a cross build to linux-$arch (publish on the target itself for native AOT)"
elif ! command -v clang >/dev/null 2>&1 && ! command -v clang-14 >/dev/null 2>&1; then aot_why="no clang here (apt-get install clang zlib1g-dev)"
fi
if [ -n "$aot_why" ]; then
  publish_args=(-r "linux-$arch" --self-contained)
  build_kind="trimmed self-contained ($aot_why)"
else
  publish_args=(-r "linux-$arch" -p:PublishAot=true)
  build_kind="native AOT"
fi
if [ -z "$from" ]; then
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "install.sh: no 'dotnet' here: publish on a PC (dotnet publish src/Gateway -c Release -r linux-$arch --self-contained -o out) and pass --from out" >&2
    exit 2
  fi
  if [ "$dry_run" -eq 1 ]; then
    from=/tmp/gateway-publish
    echo "Build: $build_kind"
    run dotnet publish "$repo/src/Gateway" -c Release "${publish_args[@]}" -o "$from" -nologo -v quiet
  else
    from=$(mktemp -d)
    trap 'rm -rf "$from"' EXIT
    echo "Publishing linux-$arch, $build_kind..."
    if ! dotnet publish "$repo/src/Gateway" -c Release "${publish_args[@]}" -o "$from" -nologo -v quiet && [ -z "$aot_why" ]; then
      echo "install.sh: the native AOT publish failed; publishing the trimmed self-contained build instead" >&2
      rm -rf "$from" && from=$(mktemp -d)
      dotnet publish "$repo/src/Gateway" -c Release -r "linux-$arch" --self-contained -o "$from" -nologo -v quiet
    fi
  fi
elif [ ! -x "$from/gateway" ]; then
  echo "install.sh: $from/gateway is missing or not executable" >&2
  exit 2
fi

# 2. The configuration to install.
if [ -z "$config" ]; then
  config="$repo/config/gateway.json"
  [ -f "$from/config/gateway.json" ] && config="$from/config/gateway.json"
elif [ ! -f "$config" ]; then
  for candidate in "$repo/config/examples/$config" "$repo/config/examples/$config.json" "$from/config/examples/$config" "$from/config/examples/$config.json"; do
    if [ -f "$candidate" ]; then config=$candidate; break; fi
  done
fi
if [ ! -f "$config" ]; then
  echo "install.sh: no configuration '$config'; examples:" >&2
  ls "$repo/config/examples" >&2 || true
  exit 2
fi

# 3. A system user in the groups that own the GPIO chips, the I2C buses and the serial ports.
#    Raspberry Pi OS has the gpio and i2c groups; on a PC they are made here (systemd refuses unknown groups).
for group in gpio i2c dialout; do
  getent group "$group" >/dev/null || run groupadd --system "$group"
done
if ! id gateway >/dev/null 2>&1; then
  run useradd --system --user-group --home-dir /var/lib/gateway --no-create-home --shell /usr/sbin/nologin \
    --comment "IIoT gateway" --groups gpio,i2c,dialout gateway
else
  run usermod --append --groups gpio,i2c,dialout gateway
fi

# Device permissions for those groups where the OS does not set them (Raspberry Pi OS already does).
run mkdir -p "$(dirname "$udev_rules")"
write "$udev_rules" <<'RULES'
SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"
SUBSYSTEM=="i2c-dev", GROUP="i2c", MODE="0660"
RULES
if [ "$dry_run" -eq 1 ]; then
  run udevadm control --reload-rules
  run udevadm trigger --subsystem-match=gpio --subsystem-match=i2c-dev
else
  udevadm control --reload-rules 2>/dev/null && udevadm trigger --subsystem-match=gpio --subsystem-match=i2c-dev 2>/dev/null || true
fi

# 4. The program under /opt/gateway, owned by root: the service cannot modify itself.
if [ -d /run/systemd/system ]; then run systemctl stop gateway.service 2>/dev/null || true; fi
run rm -rf "$prefix.new"
run mkdir -p "$prefix.new"
run cp -a "$from/." "$prefix.new/"
run mkdir -p "$prefix.new/docs"
run cp "$repo"/docs/*.md "$prefix.new/docs/" 2>/dev/null || true
run chown -R root:root "$prefix.new"
run chmod -R u=rwX,go=rX "$prefix.new"
run rm -rf "$prefix.old"
if [ -d "$prefix" ]; then run mv "$prefix" "$prefix.old"; fi
run mv "$prefix.new" "$prefix"
run rm -rf "$prefix.old"

# 5. The configuration, readable by the service only; secrets (password files) go beside it, mode 0640.
run install -d -m 0750 -o root -g gateway "$config_dir"
if [ -f "$config_dir/gateway.json" ] && [ "$force_config" -eq 0 ]; then
  echo "Keeping $config_dir/gateway.json (use --force-config to replace it)"
else
  if [ -f "$config_dir/gateway.json" ]; then run cp -a "$config_dir/gateway.json" "$config_dir/gateway.json.bak"; fi
  run install -m 0640 -o root -g gateway "$config" "$config_dir/gateway.json"
  [ "$dry_run" -eq 1 ] || echo "Wrote $config_dir/gateway.json from $config"
fi

# 6. The state directory (buffer, PKI) is made by systemd (StateDirectory=); check the configuration as the service will.
run install -d -m 0750 -o gateway -g gateway "$state_dir"
if [ "$dry_run" -eq 1 ]; then
  echo "would check: (cd $state_dir && runuser -u gateway -- $prefix/gateway check-config $config_dir/gateway.json); not started if it is not valid"
elif ! (cd "$state_dir" && runuser -u gateway -- "$prefix/gateway" check-config "$config_dir/gateway.json"); then
  # Exit 2 with one '<json path>: <reason>' line per problem.
  echo "install.sh: $config_dir/gateway.json is not valid (see above); fix it, then: systemctl restart gateway" >&2
  start=0
fi

# 7. The unit.
run install -m 0644 "$repo/deploy/systemd/gateway.service" "$unit"
if [ ! -d /run/systemd/system ]; then
  # Building an image in a chroot, or a machine without systemd: enable for the next boot only.
  run mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
  run ln -sf /etc/systemd/system/gateway.service "$root/etc/systemd/system/multi-user.target.wants/gateway.service"
  if [ "$dry_run" -eq 1 ]; then echo "Dry run: nothing was changed."; exit 0; fi
  echo "Installed; systemd is not running here: the service starts at the next boot."
  exit 0
fi
run systemctl daemon-reload
run systemctl enable gateway.service
if [ "$start" -eq 1 ]; then
  run systemctl restart gateway.service
  [ "$dry_run" -eq 1 ] || systemctl --no-pager --lines=10 status gateway.service || true
fi
if [ "$dry_run" -eq 1 ]; then echo "Dry run: nothing was changed."; exit 0; fi
echo "Installed. Logs: journalctl -u gateway -f    Status: systemctl status gateway"
