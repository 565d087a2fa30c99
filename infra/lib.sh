# Sourced by the infra scripts: install what is missing, start moto server on a free loopback
# port and stop it on exit. After `start_moto`, AWS_ENDPOINT_URL points every aws-sdk client
# (and boto3) at it.

# Installs a PyPI package when its command is missing (a fresh machine needs nothing else).
require_pip() { # command package
  command -v "$1" >/dev/null && return 0
  echo "installing $2 from PyPI (for $1)" >&2
  python3 -m pip install --quiet --disable-pip-version-check "$2"
  hash -r
}

require_mono() { # the C# compiler and runtime of Debian's mono-devel (the Kentico modules' tests)
  command -v mcs >/dev/null && command -v mono >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing mono-devel from Debian's packages (for mcs, mono)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mono-devel >/dev/null
    hash -r
  else
    echo "the Kentico modules' C# tests need Mono: apt-get install -y mono-devel (Debian/Ubuntu)," >&2
    echo "or brew install mono (macOS)" >&2
    return 1
  fi
}

require_stripe_node() {
  [ -d tests/stripe-node/node_modules/stripe ] && return 0
  npm install --prefix tests/stripe-node --no-package-lock --no-audit --no-fund --loglevel=error
}

start_moto() {
  require_pip moto_server 'moto[server]'
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p target
  moto_server -H 127.0.0.1 -p "$port" >target/moto.log 2>&1 &
  MOTO_PID=$!
  trap 'kill "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
      # A port taken meanwhile would answer while our moto exits: make sure ours is the one up.
      kill -0 "$MOTO_PID" 2>/dev/null || { echo "moto_server exited; see target/moto.log" >&2; return 1; }
      export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
      export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
      echo "moto server on $AWS_ENDPOINT_URL (pid $MOTO_PID)" >&2
      return 0
    fi
    sleep 0.1
  done
  echo "moto_server did not start; see target/moto.log" >&2
  return 1
}
