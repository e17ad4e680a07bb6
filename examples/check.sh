#!/usr/bin/env bash
# Validates the example monitoring configuration:
#   - Prometheus rules (alerting and recording):  promtool check rules
#   - their unit tests:                           promtool test rules
#   - Alertmanager configuration:  amtool check-config
#
# Needs promtool and amtool on PATH (Debian/Ubuntu: apt-get install prometheus
# prometheus-alertmanager). Works from any directory. Exits non-zero on the
# first failure.
set -euo pipefail

here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

fail() {
  echo "check.sh: FAILED: $*" >&2
  exit 1
}

for tool in promtool amtool; do
  command -v "$tool" >/dev/null 2>&1 \
    || fail "$tool not found on PATH (apt-get install prometheus prometheus-alertmanager)"
done

echo "==> promtool check rules prometheus/*.rules.yml"
promtool check rules --lint-fatal prometheus/*.rules.yml \
  || fail "Prometheus rules are invalid"

# promtool resolves rule_files relative to the test file's directory, but run
# it from there anyway so the output names files the way a reader expects.
echo "==> promtool test rules prometheus/*.test.yml"
(cd prometheus && promtool test rules *.test.yml) \
  || fail "Prometheus rule unit tests failed"

echo "==> amtool check-config alertmanager/alertmanager.yml"
amtool check-config alertmanager/alertmanager.yml \
  || fail "Alertmanager configuration is invalid"

echo "==> all example checks passed"
