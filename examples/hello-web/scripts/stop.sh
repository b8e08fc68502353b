#!/bin/sh
# Runs from the previous revision: stop what it started.
echo "stopping revision $(cat /tmp/fleetdeploy-demo/www/hello/REVISION 2>/dev/null || echo none) for deployment $DEPLOYMENT_ID"
rm -f /tmp/fleetdeploy-demo/run/hello.pid
