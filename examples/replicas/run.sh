#!/usr/bin/env bash
# Two replicas of the reference host sharing one PostgreSQL store: `make run-replicas`.
# A private PostgreSQL server (Debian's binaries, a cluster in build/replicas/pg, reached
# only through a Unix socket there), then the reference host twice, on PORT and PORT+1,
# each with its own copy of the example plugins (as each pod has its own image) and its own
# state directory. The copies are fresh at every run: what an admin installed through either
# replica comes back from the shared store as they start. Ctrl+C stops both hosts, every
# worker and the server.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build
dir=$build/replicas
port=${PORT:-5080}
key=${ADMIN_KEY:-dev-admin-key}
config=${CONFIG:-Release}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[ -x "$bin/postgres" ] || { echo "no PostgreSQL server under /usr/lib/postgresql; make deps installs it" >&2; exit 1; }

# The server refuses to run as root; the sandbox and CI run as root.
as_db=()
if [ "$(id -u)" = 0 ]; then as_db=(setpriv --reuid=postgres --regid=postgres --init-groups); fi

mkdir -p "$dir"
if [ ! -f "$dir/pg/PG_VERSION" ]; then
  mkdir -p "$dir/pg" && [ "$(id -u)" != 0 ] || chown postgres: "$dir/pg"
  "${as_db[@]}" "$bin/initdb" -D "$dir/pg" -U postgres --auth=trust -E UTF8 > "$dir/initdb.log"
fi
[ "$(id -u)" != 0 ] || chown postgres: "$dir/pg"

pids=()
stop() { trap - INT TERM EXIT; kill -TERM "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT

"${as_db[@]}" "$bin/postgres" -D "$dir/pg" -k "$dir/pg" -h '' > "$dir/postgres.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do "$bin/pg_isready" -q -h "$dir/pg" -U postgres && break; sleep 0.1; done
"$bin/psql" -q -h "$dir/pg" -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'plugins'" | grep -q 1 \
  || "$bin/psql" -q -h "$dir/pg" -U postgres -c "CREATE DATABASE plugins"

host=$root/examples/ReferenceHost/bin/$config/net10.0
for n in 0 1; do
  rm -rf "$dir/plugins-$n" && cp -a "$build/plugins" "$dir/plugins-$n"
  PluginHost__AdminApiKey=$key dotnet "$host/GrpcPlugins.ReferenceHost.dll" \
    --contentRoot "$host" \
    --urls "http://127.0.0.1:$((port + n))" \
    --PluginHost:PluginsDirectory="$dir/plugins-$n" \
    --PluginHost:StateDirectory="$dir/state-$n" \
    --PluginHost:AllowUnsignedPlugins=true \
    --PluginHost:TrustedKeysDirectory="$build/trust" \
    --PluginHost:WorkerPath="$build/worker/GrpcPlugins.PluginWorker.dll" \
    --PluginHost:Store:PostgreSqlConnectionString="Host=$dir/pg;Username=postgres;Database=plugins" \
    --PluginHost:Store:ReplicaName="replica-$n" &
  pids+=($!)
done
echo "replicas on http://127.0.0.1:$port and http://127.0.0.1:$((port + 1)) (admin key: $key), sharing PostgreSQL on $dir/pg; Ctrl+C stops them"
wait -n "${pids[@]}"
