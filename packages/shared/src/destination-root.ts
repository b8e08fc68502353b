/**
 * DESTINATION_ROOT_ENV names the variable through which the agent tells hook scripts its
 * `destination_root`: set to that folder when the agent places AppSpec destinations under it, unset
 * otherwise. A script that writes to a destination path prefixes it (`"$FLEETDEPLOY_DESTINATION_ROOT/var/www"`),
 * as the agent prefixes the destinations themselves; `${FLEETDEPLOY_DESTINATION_ROOT-}` is empty on a
 * real host, so the same script works on both.
 */
export const DESTINATION_ROOT_ENV = 'FLEETDEPLOY_DESTINATION_ROOT';
