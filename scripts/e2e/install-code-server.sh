#!/usr/bin/env bash
# Installs code-server (the real VS Code workbench served over HTTP) for the e2e tests, offline
# from the npm registry and Debian packages only. Idempotent: a finished install is marked by
# .cache/code-server/.installed-<version> and reused. Usage: bash scripts/e2e/install-code-server.sh
set -euo pipefail

VERSION="${CODE_SERVER_VERSION:-4.100.3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${PROXLAB_CODE_SERVER_CACHE:-$ROOT/.cache/code-server}"
DEST="$CACHE/$VERSION"
MARK="$CACHE/.installed-$VERSION"

if [[ -f "$MARK" && -f "$DEST/out/node/entry.js" ]]; then
  echo "code-server $VERSION already installed in $DEST"
  exit 0
fi

# Native modules need these headers; the workbench needs ripgrep; Playwright drives Debian's chromium.
APT_PACKAGES=(libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config ripgrep chromium build-essential python3)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}"
fi

# node-gyp builds against the local Node headers (no download): use npm's nodedir, else /usr.
if [[ -z "${npm_config_nodedir:-}" ]]; then
  nd="$(npm config get nodedir 2>/dev/null || true)"
  if [[ -n "$nd" && "$nd" != "undefined" && "$nd" != "null" ]]; then export npm_config_nodedir="$nd"
  elif [[ -f /usr/include/node/node.h ]]; then export npm_config_nodedir=/usr
  fi
fi

rm -rf "$DEST" "$MARK"
mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "code-server@$VERSION" >/dev/null && tar -xzf code-server-*.tgz)
pkg="$work/package"

echo "npm install (code-server)"
(cd "$pkg" && npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
echo "npm install (code-server/lib/vscode)"
(cd "$pkg/lib/vscode" && npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)

echo "building native modules"
(cd "$pkg" && npm rebuild argon2 --loglevel=error)
# One module at a time: npm rebuild stops at the first failure, and node-pty's post-install
# step fails (it wants to npx node-gyp) after pty.node is built, which is fine.
for m in kerberos @parcel/watcher @vscode/spdlog @vscode/deviceid @vscode/native-watchdog; do
  (cd "$pkg/lib/vscode" && npm rebuild "$m" --loglevel=error)
done
(cd "$pkg/lib/vscode" && npm rebuild node-pty --loglevel=silent >/dev/null 2>&1) || true
for f in node-pty/build/Release/pty.node @vscode/spdlog/build/Release/spdlog.node kerberos/build/Release/kerberos.node; do
  [[ -f "$pkg/lib/vscode/node_modules/$f" ]] || { echo "native module missing after rebuild: $f" >&2; exit 1; }
done

mkdir -p "$pkg/lib/vscode/node_modules/@vscode/ripgrep/bin"
cp "$(command -v rg)" "$pkg/lib/vscode/node_modules/@vscode/ripgrep/bin/rg"
ln -sfn node_modules "$pkg/lib/vscode/node_modules.asar"

mv "$pkg" "$DEST"
touch "$MARK"
echo "code-server $VERSION installed in $DEST"
