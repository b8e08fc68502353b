/**
 * codedeploy-local's rules for a local deployment's options, so that commands people already run
 * with the AWS agent's `codedeploy-local` work unchanged with `fleetdeploy-agent local`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BundleTypes, InPlaceEvents } from '@fleetdeploy/shared';
import type { BundleType, Revision } from '@fleetdeploy/shared';

/** LocalOptions are the command-line options of a local deployment, as given. */
export interface LocalOptions {
  bundleLocation?: string;
  type?: string;
  fileExistsBehavior?: string;
  deploymentGroup?: string;
  deploymentGroupName?: string;
  applicationName?: string;
  events?: string;
  agentConfigurationFile?: string;
  appspecFilename?: string;
  /** Carry on past a failing ApplicationStop, BeforeBlockTraffic or AfterBlockTraffic (CodeDeploy's ignoreApplicationStopFailures). */
  ignoreApplicationStopFailures?: boolean;
}

/** LocalUsageError is a mistake in the options; the CLI prints it as `ERROR: <message>`, exit 1. */
export class LocalUsageError extends Error {
  override readonly name = 'LocalUsageError';
}

/** Events that need the new revision to be unpacked, so none may come before DownloadBundle or Install. */
const NEW_REVISION_EVENTS = ['AfterInstall', 'ApplicationStart', 'BeforeAllowTraffic', 'AfterAllowTraffic', 'ValidateService'];
const BEFORE_DOWNLOAD = ['BeforeBlockTraffic', 'AfterBlockTraffic', 'ApplicationStop'];

/** bundleType validates `--type`. */
export function bundleType(type: string | undefined): BundleType {
  const t = type ?? 'directory';
  if (!(BundleTypes as readonly string[]).includes(t)) {
    throw new LocalUsageError(`${t} is not a valid type. Must be one of ${['tgz', 'tar', 'zip', 'directory'].join(',')}`);
  }
  return t as BundleType;
}

/**
 * classifyLocation turns `--bundle-location` into a revision: `s3://bucket/key?versionId=&etag=`,
 * a GitHub https URL, or a local path (`file://` or plain, made absolute against cwd).
 */
export function classifyLocation(location: string, type: BundleType, cwd: string): Revision {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(location)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme.length === 1 || scheme === 'file') {
    const p = scheme === 'file' ? decodeURIComponent(new URL(location).pathname) : location;
    const abs = path.resolve(cwd, p);
    return type === 'directory' ? { type: 'LocalDirectory', location: abs } : { type: 'LocalFile', location: abs, bundleType: type };
  }
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new LocalUsageError(`location ${location} is not a valid uri`);
  }
  if (scheme === 'http') throw new LocalUsageError(`location ${location} cannot be http, only encrypted (https) url endpoints supported`);
  if (scheme === 's3') {
    const key = url.pathname.replace(/^\//, '');
    if (url.hostname === '' || key === '') {
      throw new LocalUsageError(`location ${location} is not in the expected format of 's3://bucket/key'`);
    }
    if (type === 'directory') throw new LocalUsageError(`location ${location} is an S3 object; give its --type (tgz, tar or zip)`);
    const version = url.searchParams.get('versionId') || undefined;
    const etag = url.searchParams.get('etag') || undefined;
    return { type: 'S3', bucket: url.hostname, key: decodeURIComponent(key), bundleType: type, ...(version ? { version } : {}), ...(etag ? { etag } : {}) };
  }
  if (scheme === 'https' && url.hostname.endsWith('github.com')) {
    const parts = url.pathname.split('/').filter(Boolean);
    const bundle = type === 'tar' || type === 'zip' ? type : 'zip';
    if (parts[0] === 'repos' && parts.length >= 5) return { type: 'GitHub', repository: `${parts[1]}/${parts[2]}`, commitId: parts[parts.length - 1]!, bundleType: bundle };
    if (parts.length >= 2) return { type: 'GitHub', repository: `${parts[0]}/${parts.slice(1).join('/')}`, commitId: 'HEAD', bundleType: bundle };
  }
  throw new LocalUsageError(`location ${location} cannot be determined to be S3, Github, or a local file / directory`);
}

/** checkLocalBundle checks a local bundle against its type before anything runs. */
export function checkLocalBundle(revision: Revision, appspecFilename: string | undefined): void {
  if (revision.type !== 'LocalFile' && revision.type !== 'LocalDirectory') return;
  const loc = revision.location;
  let st: fs.Stats;
  try {
    st = fs.statSync(loc);
  } catch {
    throw new LocalUsageError(`location ${loc} is specified as a file or directory which does not exist`);
  }
  if (revision.type === 'LocalDirectory') {
    if (!st.isDirectory()) throw new LocalUsageError(`location ${loc} is specified with type directory but it is a file`);
    if (appspecFilename) {
      if (!fs.existsSync(path.join(loc, appspecFilename))) {
        throw new LocalUsageError(`Expecting appspec file at location ${path.join(loc, appspecFilename)} but it is not found there. Please either run the CLI from within a directory containing the ${appspecFilename} file or specify a bundle location containing an ${appspecFilename} file in its root directory`);
      }
    } else if (!fs.existsSync(path.join(loc, 'appspec.yml')) && !fs.existsSync(path.join(loc, 'appspec.yaml'))) {
      throw new LocalUsageError(`Expecting appspec file at location ${path.join(loc, 'appspec.yml')} or ${path.join(loc, 'appspec.yaml')} but it is not found there. Please either run the CLI from within a directory containing the appspec.yml or appspec.yaml file or specify a bundle location containing an appspec.yml or appspec.yaml file in its root directory`);
    }
  } else if (st.isDirectory()) {
    throw new LocalUsageError(`location ${loc} is specified as a compressed local file but it is a directory`);
  }
}

/**
 * orderEvents turns `--events` into the events to run. Without it: every default event in order.
 * With it: DownloadBundle and Install are added in front when missing and swapped when Install comes
 * first (`DownloadBundle,ApplicationStart` runs DownloadBundle, Install, ApplicationStart).
 */
export function orderEvents(events: string | undefined): string[] {
  if (events === undefined) return [...InPlaceEvents];
  const listed = events.split(',').map((e) => e.trim()).filter(Boolean);
  if (listed.length === 0) throw new LocalUsageError('--events lists no event');
  checkEventOrder(listed);
  const out = [...listed];
  if (!out.includes('Install')) out.unshift('Install');
  if (!out.includes('DownloadBundle')) out.unshift('DownloadBundle');
  const d = out.indexOf('DownloadBundle');
  const i = out.indexOf('Install');
  if (i < d) [out[i], out[d]] = [out[d]!, out[i]!];
  return out;
}

function checkEventOrder(listed: readonly string[]): void {
  const d = listed.indexOf('DownloadBundle');
  if (d >= 0 && listed.slice(0, d).some((e) => NEW_REVISION_EVENTS.includes(e) || e === 'Install')) {
    throw new LocalUsageError(`The only events that can be specified before DownloadBundle are ${BEFORE_DOWNLOAD.join(',')}. Please fix the order of your specified events: ${listed.join(',')}`);
  }
  const i = listed.indexOf('Install');
  if (i >= 0 && listed.slice(0, i).some((e) => NEW_REVISION_EVENTS.includes(e))) {
    throw new LocalUsageError(`The only events that can be specified before Install are ${[...BEFORE_DOWNLOAD, 'DownloadBundle', 'BeforeInstall'].join(',')}. Please fix the order of your specified events: ${listed.join(',')}`);
  }
}

/** allPossibleEvents is what Install checks AppSpec hooks against: the defaults plus listed custom events. */
export function allPossibleEvents(events: readonly string[]): string[] {
  return [...new Set([...InPlaceEvents, ...events])];
}

/** localDeploymentId makes an id in codedeploy-local's form, `d-` + 9 of [A-Z0-9] + `-local`. */
export function localDeploymentId(random: (n: number) => number = (n) => Math.floor(Math.random() * n)): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let id = 'd-';
  for (let k = 0; k < 9; k++) id += chars[random(chars.length)];
  return `${id}-local`;
}

/** Thrown for a configuration file that cannot be read, with codedeploy-local's wording. */
export function missingConfigError(file: string): LocalUsageError {
  return new LocalUsageError(`configuration file ${file} does not exist or is not readable`);
}
