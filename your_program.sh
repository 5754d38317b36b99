#!/bin/sh
# Builds minikafka (release, quietly; a no-op when nothing changed) and runs it with the
# given arguments: ./your_program.sh [server.properties] [--override key=value ...]
set -e
dir="$(cd "$(dirname "$0")" && pwd)"
cargo build --release --quiet --bin minikafka --manifest-path "$dir/Cargo.toml"
exec "$dir/target/release/minikafka" "$@"
