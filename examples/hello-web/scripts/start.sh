#!/bin/sh
# A real service would start here; the demo records a pid file instead.
echo $$ > /tmp/fleetdeploy-demo/run/hello.pid
echo "started"
