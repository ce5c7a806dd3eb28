#!/usr/bin/env bash
# Union Desk (工会助手) on Debian 12: the commands of docs/deploy.zh-Hans.md, in its order, as one
# script. Run it as root from the unpacked code (a git clone or a release):
#
#   deploy/install-debian.sh                 every step below, in order
#   deploy/install-debian.sh code venv upgrade   only these steps (an upgrade from a new release)
#
# Steps: packages user code venv database env upgrade check backup service
# No Telegram token is needed: put it into .env afterwards, then `systemctl start unionbot`.
#
# Settings (environment variables, defaults in brackets):
#   UNIONBOT_DIR          [/opt/unionbot]   the install folder; the data folder is $UNIONBOT_DIR/data
#   UNIONBOT_USER         [unionbot]        the system user the bot runs as
#   UNIONBOT_SOURCE       [this script's repository]  the code copied into UNIONBOT_DIR
#   UNIONBOT_PYTHON       [python3]         Python 3.11 or newer, for the venv
#   UNIONBOT_DB           [postgresql]      postgresql, or sqlite for one small school
#   UNIONBOT_DB_NAME      [unionbot]        the PostgreSQL database ...
#   UNIONBOT_DB_USER      [unionbot]        ... the role the bot logs in as ...
#   UNIONBOT_DB_PASSWORD  [generated]       ... and its password (kept only in .env)
#   UNIONBOT_DB_HOST      [127.0.0.1]       where the bot reaches PostgreSQL
#   UNIONBOT_DB_PORT      [5432]
#   UNIONBOT_SKIP_SYSTEM  [0]   1: skip what needs root (apt-get, useradd, runuser, chown,
#                               systemctl); psql and createdb then connect as
#                               UNIONBOT_PGADMIN_USER [postgres] at UNIONBOT_PGADMIN_HOST
#                               [127.0.0.1] instead of as the postgres system user. For tests
#                               and for installing into a folder of your own.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
UNIONBOT_DIR="${UNIONBOT_DIR:-/opt/unionbot}"
UNIONBOT_USER="${UNIONBOT_USER:-unionbot}"
UNIONBOT_SOURCE="${UNIONBOT_SOURCE:-$(dirname "$HERE")}"
UNIONBOT_PYTHON="${UNIONBOT_PYTHON:-python3}"
UNIONBOT_DB="${UNIONBOT_DB:-postgresql}"
UNIONBOT_DB_NAME="${UNIONBOT_DB_NAME:-unionbot}"
UNIONBOT_DB_USER="${UNIONBOT_DB_USER:-unionbot}"
UNIONBOT_DB_PASSWORD="${UNIONBOT_DB_PASSWORD:-}"
UNIONBOT_DB_HOST="${UNIONBOT_DB_HOST:-127.0.0.1}"
UNIONBOT_DB_PORT="${UNIONBOT_DB_PORT:-5432}"
UNIONBOT_SKIP_SYSTEM="${UNIONBOT_SKIP_SYSTEM:-0}"
UNIONBOT_PGADMIN_USER="${UNIONBOT_PGADMIN_USER:-postgres}"
UNIONBOT_PGADMIN_HOST="${UNIONBOT_PGADMIN_HOST:-127.0.0.1}"

ALL_STEPS=(packages user code venv database env upgrade check backup service)
SYSTEM_STEPS=" packages user service "
VENV="$UNIONBOT_DIR/.venv"

say() { printf '\n== %s\n' "$*"; }
die() { printf 'install-debian.sh: %s\n' "$*" >&2; exit 1; }
skipping_system() { [ "$UNIONBOT_SKIP_SYSTEM" = "1" ]; }

# The bot's own commands run as its user, so that what they write (the SQLite file, secret.key,
# backups) belongs to it.
as_bot() {
    if skipping_system; then "$@"; else runuser -u "$UNIONBOT_USER" -- "$@"; fi
}

# PostgreSQL's superuser: the postgres system user over the local socket (Debian's default
# "peer" login), or, without root, a superuser role reached over TCP.
as_postgres() {
    if skipping_system; then
        PGHOST="$UNIONBOT_PGADMIN_HOST" PGUSER="$UNIONBOT_PGADMIN_USER" "$@"
    else
        runuser -u postgres -- "$@"
    fi
}

check_names() {
    local name
    for name in "$UNIONBOT_USER" "$UNIONBOT_DB_NAME" "$UNIONBOT_DB_USER"; do
        [[ "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] \
            || die "\"$name\" is not a plain name (lower-case letters, digits, _)"
    done
    [[ "$UNIONBOT_DB_PASSWORD" =~ ^[A-Za-z0-9_-]*$ ]] \
        || die "UNIONBOT_DB_PASSWORD: use letters, digits, _ and - only (it goes into a URL)"
    case "$UNIONBOT_DB" in
        postgresql|sqlite) ;;
        *) die "UNIONBOT_DB must be postgresql or sqlite, not \"$UNIONBOT_DB\"" ;;
    esac
}

# 1. Debian packages: Python with venv, git, PostgreSQL and pg_dump (postgresql-client).
step_packages() {
    say "packages"
    local packages=(python3 python3-venv git ca-certificates)
    if [ "$UNIONBOT_DB" = "postgresql" ]; then
        packages+=(postgresql postgresql-client)
    fi
    apt-get update
    apt-get install -y "${packages[@]}"
}

# 2. A system user of its own, without a login shell.
step_user() {
    say "user $UNIONBOT_USER"
    if ! id -u "$UNIONBOT_USER" >/dev/null 2>&1; then
        useradd --system --user-group --home-dir "$UNIONBOT_DIR" --no-create-home \
            --shell /usr/sbin/nologin "$UNIONBOT_USER"
    fi
}

# 3. The code in the install folder (belonging to root: the bot cannot change its own code),
#    and the data folder, the only place the bot writes.
step_code() {
    say "code into $UNIONBOT_DIR"
    mkdir -p "$UNIONBOT_DIR"
    local source target
    source="$(cd "$UNIONBOT_SOURCE" && pwd -P)"
    target="$(cd "$UNIONBOT_DIR" && pwd -P)"
    if [ "$source" != "$target" ]; then
        # The code folders are replaced whole: a file the new release no longer has (a renamed
        # migration would give Alembic two heads) must not stay. data, .env and .venv stay.
        local entry
        for entry in "$source"/*/; do
            entry="$(basename "$entry")"
            case "$entry" in data|build|sandbox-data|node_modules) continue ;; esac
            rm -rf "${target:?}/$entry"
        done
        tar -C "$source" \
            --exclude=./.git --exclude=./.venv --exclude=./data --exclude=./.env \
            --exclude=node_modules --exclude=__pycache__ --exclude='*.egg-info' \
            --exclude=./build --exclude=./.mypy_cache --exclude=./.ruff_cache \
            --exclude=./.pytest_cache --exclude=./sandbox-data \
            -cf - . | tar -C "$target" -xf -
    fi
    install -d -m 0700 "$UNIONBOT_DIR/data" "$UNIONBOT_DIR/data/backups"
    if ! skipping_system; then
        chown "$UNIONBOT_USER:$UNIONBOT_USER" "$UNIONBOT_DIR/data" "$UNIONBOT_DIR/data/backups"
    fi
}

# 4. A virtual environment with the bot installed, and its translations compiled (the bot's
#    user cannot write into the venv).
step_venv() {
    say "venv $VENV"
    "$UNIONBOT_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$UNIONBOT_PYTHON is older than Python 3.11"
    cd "$UNIONBOT_DIR"
    [ -x "$VENV/bin/python" ] || "$UNIONBOT_PYTHON" -m venv "$VENV"
    # A build folder left by an earlier release would slip its old files into this one.
    rm -rf build
    "$VENV/bin/pip" install --quiet "$UNIONBOT_DIR"
    "$VENV/bin/pybabel" compile --use-fuzzy -D unionbot \
        -d "$("$VENV/bin/python" -I -c 'import bot.i18n as i; print(i.LOCALES_DIR)')"
}

# 5. PostgreSQL: a role for the bot with a password, and a UTF-8 database it owns.
step_database() {
    if [ "$UNIONBOT_DB" != "postgresql" ]; then
        say "database: SQLite at $UNIONBOT_DIR/data/unionbot.db (created by db upgrade)"
        return
    fi
    say "database $UNIONBOT_DB_NAME, role $UNIONBOT_DB_USER"
    if [ -z "$(as_postgres psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$UNIONBOT_DB_USER'")" ]; then
        if [ -z "$UNIONBOT_DB_PASSWORD" ]; then
            if [ -f "$UNIONBOT_DIR/.env" ]; then
                die "$UNIONBOT_DIR/.env exists: set UNIONBOT_DB_PASSWORD to the password in its DATABASE_URL"
            fi
            UNIONBOT_DB_PASSWORD="$("$UNIONBOT_PYTHON" -c 'import secrets; print(secrets.token_hex(24))')"
        fi
        # On standard input, not with -c: every user of the server can read command lines.
        printf "CREATE ROLE %s LOGIN PASSWORD '%s';\n" "$UNIONBOT_DB_USER" "$UNIONBOT_DB_PASSWORD" \
            | as_postgres psql -v ON_ERROR_STOP=1 -q
    fi
    if [ -z "$(as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$UNIONBOT_DB_NAME'")" ]; then
        as_postgres createdb --owner="$UNIONBOT_DB_USER" --encoding=UTF8 --locale=C.UTF-8 \
            --template=template0 "$UNIONBOT_DB_NAME"
    fi
}

# 6. The settings: .env from .env.example with the database and a new SECRET_KEY, readable by
#    the bot's user only. An existing .env is never overwritten (it holds the token and the key).
step_env() {
    local env_file="$UNIONBOT_DIR/.env"
    if [ -f "$env_file" ]; then
        say ".env exists: kept as it is"
        return
    fi
    say ".env"
    local database_url=""
    if [ "$UNIONBOT_DB" = "postgresql" ]; then
        [ -n "$UNIONBOT_DB_PASSWORD" ] \
            || die "set UNIONBOT_DB_PASSWORD to the password of the role $UNIONBOT_DB_USER"
        database_url="postgresql+asyncpg://$UNIONBOT_DB_USER:$UNIONBOT_DB_PASSWORD@$UNIONBOT_DB_HOST:$UNIONBOT_DB_PORT/$UNIONBOT_DB_NAME"
    fi
    local secret_key
    secret_key="$("$UNIONBOT_PYTHON" -c 'import secrets; print(secrets.token_urlsafe(32))')"
    (
        umask 077
        DATABASE_URL="$database_url" SECRET_KEY="$secret_key" "$UNIONBOT_PYTHON" - \
            "$UNIONBOT_DIR/.env.example" "$env_file" <<'PY'
import os, sys
source, target = sys.argv[1], sys.argv[2]
values = {"SECRET_KEY": os.environ["SECRET_KEY"]}
if os.environ["DATABASE_URL"]:
    values["DATABASE_URL"] = os.environ["DATABASE_URL"]
lines = []
with open(source, encoding="utf-8") as example:
    for line in example:
        name = line.split("=", 1)[0]
        lines.append(f"{name}={values[name]}\n" if name in values and "=" in line else line)
with open(target, "w", encoding="utf-8") as env:
    env.writelines(lines)
PY
    )
    chmod 600 "$env_file"
    if ! skipping_system; then
        chown "$UNIONBOT_USER:$UNIONBOT_USER" "$env_file"
    fi
}

# 7. The database schema (unionbot run does this too at every start).
step_upgrade() {
    say "db upgrade"
    cd "$UNIONBOT_DIR"
    as_bot "$VENV/bin/unionbot" db upgrade
}

# 8. A smoke check: the bot, its settings and its database answer (no Telegram needed).
step_check() {
    say "calendar show"
    cd "$UNIONBOT_DIR"
    as_bot "$VENV/bin/unionbot" calendar show --year "$(date +%Y)"
}

# 9. A first backup, proving that backups work on this machine.
step_backup() {
    say "backup"
    cd "$UNIONBOT_DIR"
    as_bot "$VENV/bin/unionbot" backup "data/backups/install-$(date +%Y-%m-%d-%H%M%S).tar.gz"
}

# 10. The systemd units (paths and user adjusted to this install), enabled for the next boot;
#     the bot starts once the token is in .env.
step_service() {
    say "systemd units"
    local unit
    for unit in unionbot.service unionbot-backup.service unionbot-backup.timer; do
        sed -e "s#/opt/unionbot#$UNIONBOT_DIR#g" \
            -e "s#^User=unionbot\$#User=$UNIONBOT_USER#" \
            -e "s#^Group=unionbot\$#Group=$UNIONBOT_USER#" \
            "$UNIONBOT_DIR/deploy/systemd/$unit" >"/etc/systemd/system/$unit"
        chmod 644 "/etc/systemd/system/$unit"
    done
    systemctl daemon-reload
    systemctl enable unionbot.service
    if [ "$UNIONBOT_DB" = "postgresql" ]; then
        systemctl enable --now unionbot-backup.timer
    fi
    printf '\nNext: put TELEGRAM_BOT_TOKEN and OWNER_IDS into %s, then: systemctl start unionbot\n' \
        "$UNIONBOT_DIR/.env"
}

main() {
    check_names
    local steps=("$@")
    [ ${#steps[@]} -gt 0 ] || steps=("${ALL_STEPS[@]}")
    local step
    for step in "${steps[@]}"; do
        [[ " ${ALL_STEPS[*]} " == *" $step "* ]] || die "unknown step \"$step\" (steps: ${ALL_STEPS[*]})"
    done
    for step in "${steps[@]}"; do
        if skipping_system && [[ "$SYSTEM_STEPS" == *" $step "* ]]; then
            say "$step: skipped (UNIONBOT_SKIP_SYSTEM=1)"
            continue
        fi
        "step_$step"
    done
}

main "$@"
