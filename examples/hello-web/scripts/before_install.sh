#!/bin/sh
echo "$LIFECYCLE_EVENT: $APPLICATION_NAME / $DEPLOYMENT_GROUP_NAME ($DEPLOYMENT_GROUP_ID)"
mkdir -p /tmp/fleetdeploy-demo/run
