#!/bin/sh
echo "$DEPLOYMENT_ID" > /tmp/fleetdeploy-demo/www/hello/REVISION
echo "installed $(ls /tmp/fleetdeploy-demo/www/hello | wc -l) files"
