#!/bin/sh
# Debian packages the tests use: chromium (the browser test drives it through Playwright) and postgresql
# (the scale-out test starts a throwaway cluster). Installs what is missing with apt-get when root; quiet and
# instant when both are there; says what is missing otherwise (those tests then skip, naming the reason).
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
[ -z "$missing" ] && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing) >/dev/null 2>&1; then
    echo "system packages: installed$missing"
    exit 0
  fi
  echo "system packages: apt-get install$missing failed; the browser / PostgreSQL tests will skip" >&2
  exit 0
fi
echo "system packages: missing$missing (install with: sudo apt-get install$missing); the browser / PostgreSQL tests will skip" >&2
