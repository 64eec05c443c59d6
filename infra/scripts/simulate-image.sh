#!/bin/sh
# Checks, without a Docker engine, that an app starts with exactly the node_modules its image ships:
# the runtime dependencies of infra/docker/Dockerfile (npm ci --omit=dev --omit=optional
# --ignore-scripts), the app's bundle, and the image's environment.
#   infra/scripts/simulate-image.sh <app> [args...]      (default args: --help)
# Builds the app in this checkout (npm run build's target for that app), installs the runtime
# dependencies into a temporary directory (needs the npm registry or its cache), runs the bundle there.
set -eu

app=${1:?usage: infra/scripts/simulate-image.sh <gateway|ingest|trainer|inference|renderer> [args...]}
shift
[ $# -gt 0 ] || set -- --help
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$repo"
NX_DAEMON=false npx nx run "$app:build" --skip-nx-cache >/dev/null

# Same steps as the Dockerfile's manifests and prod-deps stages.
mkdir -p "$work/runtime/dist/apps"
cp package.json package-lock.json "$work/runtime/"
find apps libs -name package.json -not -path '*/node_modules/*' -exec cp --parents {} "$work/runtime/" \;
(cd "$work/runtime" && npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --prefer-offline >/dev/null && rm -rf node_modules/@s2g apps libs)
cp -r "dist/apps/$app" "$work/runtime/dist/apps/$app"

cd "$work/runtime"
echo "running: node dist/apps/$app/main.js $*" >&2
env -i PATH="$PATH" HOME="$work" NODE_ENV=production S2G_MODE=distributed HTTP_PORT="${HTTP_PORT:-8080}" \
  FFMPEG_PATH=/usr/bin/ffmpeg FFPROBE_PATH=/usr/bin/ffprobe \
  node "dist/apps/$app/main.js" "$@"
