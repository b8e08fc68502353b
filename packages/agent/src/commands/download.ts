/**
 * The DownloadBundle lifecycle event: prune old deployment folders, fetch the bundle to
 * `<deployment root>/bundle.tar` (whatever its type, as the AWS agent names it), unpack it into
 * `deployment-archive`, and record the deployment as the group's most recent install.
 */
import fs from 'node:fs';
import { DeployError } from '@fleetdeploy/shared';
import type { BundleLimits, DeploymentSpec, Revision } from '@fleetdeploy/shared';
import type { Layout } from '../layout.js';
import { readMarker, writeMarker } from '../layout.js';
import { pruneRevisions } from './retention.js';

/**
 * BundleFetcher brings a remote revision (S3, GitHub) to a local file. The daemon supplies one that
 * downloads from the coordinator; local runs have none.
 */
export type BundleFetcher = (revision: Revision, destination: string, signal?: AbortSignal) => Promise<void>;

/** DownloadInput is one DownloadBundle on one host. */
export interface DownloadInput {
  layout: Layout;
  spec: DeploymentSpec;
  deploymentRoot: string;
  maxRevisions: number;
  bundleLimits: BundleLimits;
  fetchBundle?: BundleFetcher;
  signal?: AbortSignal;
}

/** downloadBundle performs the DownloadBundle event. */
export async function downloadBundle(input: DownloadInput): Promise<void> {
  const { layout, spec, deploymentRoot } = input;
  const groupId = spec.deploymentGroupId;
  pruneRevisions(layout.groupDir(groupId), deploymentRoot, readMarker(layout.lastSuccessfulInstallMarker(groupId)), input.maxRevisions);

  const archive = layout.archiveDir(deploymentRoot);
  const bundle = layout.bundleFile(deploymentRoot);
  // A re-run starts from nothing, so no file of an earlier attempt survives into the archive.
  fs.rmSync(archive, { recursive: true, force: true });
  fs.rmSync(bundle, { force: true });

  const revision = spec.revision;
  if (revision.type === 'LocalDirectory') {
    fs.cpSync(revision.location, archive, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  } else {
    if (revision.type === 'LocalFile') {
      fs.symlinkSync(revision.location, bundle);
    } else if (input.fetchBundle) {
      await input.fetchBundle(revision, bundle, input.signal);
    } else {
      throw new DeployError('UnknownError', `${revision.type} revisions need a coordinator to download them; this agent runs without one (download the bundle and deploy the local file instead)`);
    }
    const { unpackBundle } = await import('../bundle/unpack.js');
    await unpackBundle({ bundlePath: bundle, bundleType: revision.bundleType, targetDir: archive, limits: input.bundleLimits });
  }
  fs.mkdirSync(layout.instructionsDir, { recursive: true });
  writeMarker(layout.mostRecentInstallMarker(groupId), deploymentRoot);
}
