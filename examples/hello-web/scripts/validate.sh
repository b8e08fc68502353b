#!/bin/sh
test -f /tmp/fleetdeploy-demo/run/hello.pid || { echo "service is not running" >&2; exit 1; }
grep -q "Hello from fleetdeploy" /tmp/fleetdeploy-demo/www/hello/index.html && echo "validated"
