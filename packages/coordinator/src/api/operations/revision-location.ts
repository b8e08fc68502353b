/**
 * RevisionLocation at the API edge: reading CodeDeploy's `revision` structure into the stored
 * {@link RevisionLocation}, naming it canonically, and shaping it back into CodeDeploy's output.
 */
import crypto from 'node:crypto';
import { ApiError } from '../api-error.js';
import type { DeploymentGroupRecord, RevisionLocation, RevisionRecord } from '../../store/records.js';
import { epochSeconds } from '../input.js';

/** BUNDLE_TYPES are the S3 bundle types CodeDeploy accepts. */
export const BUNDLE_TYPES = ['tar', 'tgz', 'zip', 'YAML', 'JSON'] as const;

/** REVISION_TYPES are CodeDeploy's revision types. */
export const REVISION_TYPES = ['S3', 'GitHub', 'String', 'AppSpecContent'] as const;

/** MAX_CONTENT_CHARS bounds inline AppSpec content (CodeDeploy documents no limit; the body limit applies anyway). */
const MAX_CONTENT_CHARS = 512 * 1024;

const invalid = (message: string): ApiError => new ApiError('InvalidRevisionException', message);

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${where} must be an object`);
  return value as Record<string, unknown>;
}

function text(o: Record<string, unknown>, key: string, where: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw invalid(`${where}.${key} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(`${where}.${key} must be a string`);
  return v;
}

/**
 * BUCKET_NAME is S3's bucket naming rule (3–63 lower-case letters, digits, dots and hyphens, starting
 * and ending with a letter or digit).
 */
export const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * deploymentRevision is the revision a CreateDeployment deploys: the `revision` it names, or the
 * group's current revision when it names none. A bad or missing one throws as parseRevisionLocation does.
 */
export function deploymentRevision(revision: unknown, group: Pick<DeploymentGroupRecord, 'targetRevision'>): RevisionLocation {
  return revision === undefined && group.targetRevision !== undefined ? group.targetRevision : parseRevisionLocation(revision);
}

/**
 * revisionAhead is {@link deploymentRevision} for the readers that run before CreateDeployment's
 * transaction: undefined when it would throw, since the transaction reports that itself.
 */
export function revisionAhead(revision: unknown, group: Pick<DeploymentGroupRecord, 'targetRevision'>): RevisionLocation | undefined {
  try {
    return deploymentRevision(revision, group);
  } catch {
    return undefined;
  }
}

/**
 * parseRevisionLocation reads a CodeDeploy RevisionLocation from a request field. Absent →
 * RevisionRequiredException; anything malformed → InvalidRevisionException with a message naming
 * the field (`revision.s3Location.bundleType ...`). Only the structure matching `revisionType` is
 * kept, so two spellings of the same revision give the same {@link revisionKey}.
 */
export function parseRevisionLocation(value: unknown, field = 'revision'): RevisionLocation {
  if (value === undefined || value === null) throw new ApiError('RevisionRequiredException', `${field} is required`);
  const o = object(value, field);
  const type = o.revisionType;
  if (type === undefined || type === null || type === '') throw invalid(`${field}.revisionType is required (S3, GitHub, String or AppSpecContent)`);
  if (typeof type !== 'string' || !(REVISION_TYPES as readonly string[]).includes(type)) {
    throw invalid(`${field}.revisionType must be S3, GitHub, String or AppSpecContent, got ${JSON.stringify(type)}`);
  }
  switch (type as RevisionLocation['revisionType']) {
    case 'S3': {
      const where = `${field}.s3Location`;
      if (o.s3Location === undefined || o.s3Location === null) throw invalid(`${where} is required for revisionType S3`);
      const s3 = object(o.s3Location, where);
      const bucket = text(s3, 'bucket', where, true) as string;
      if (!BUCKET_NAME.test(bucket)) throw invalid(`${where}.bucket ${JSON.stringify(bucket)} is not a valid bucket name`);
      const key = text(s3, 'key', where, true) as string;
      if (key.length > 1024) throw invalid(`${where}.key is ${key.length} characters long; at most 1024 are allowed`);
      const bundleType = text(s3, 'bundleType', where, true) as string;
      if (!(BUNDLE_TYPES as readonly string[]).includes(bundleType)) throw invalid(`${where}.bundleType must be tar, tgz, zip, YAML or JSON, got ${JSON.stringify(bundleType)}`);
      const version = text(s3, 'version', where, false);
      const eTag = text(s3, 'eTag', where, false);
      return {
        revisionType: 'S3',
        s3Location: { bucket, key, bundleType, ...(version !== undefined ? { version } : {}), ...(eTag !== undefined ? { eTag } : {}) },
      };
    }
    case 'GitHub': {
      const where = `${field}.gitHubLocation`;
      if (o.gitHubLocation === undefined || o.gitHubLocation === null) throw invalid(`${where} is required for revisionType GitHub`);
      const gh = object(o.gitHubLocation, where);
      const repository = text(gh, 'repository', where, true) as string;
      if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository)) throw invalid(`${where}.repository must be "account/repository", got ${JSON.stringify(repository)}`);
      const commitId = text(gh, 'commitId', where, true) as string;
      if (!/^[0-9a-fA-F]{7,40}$/.test(commitId)) throw invalid(`${where}.commitId must be a commit SHA (7 to 40 hex digits), got ${JSON.stringify(commitId)}`);
      return { revisionType: 'GitHub', gitHubLocation: { repository, commitId } };
    }
    case 'String':
    case 'AppSpecContent': {
      const member = type === 'String' ? 'string' : 'appSpecContent';
      const where = `${field}.${member}`;
      if (o[member] === undefined || o[member] === null) throw invalid(`${where} is required for revisionType ${type}`);
      const c = object(o[member], where);
      const content = text(c, 'content', where, true) as string;
      if (content.length > MAX_CONTENT_CHARS) throw invalid(`${where}.content is ${content.length} characters long; at most ${MAX_CONTENT_CHARS} are allowed`);
      const sha256 = text(c, 'sha256', where, false);
      if (sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha256)) throw invalid(`${where}.sha256 must be 64 hex digits`);
      const body = { content, ...(sha256 !== undefined ? { sha256: sha256.toLowerCase() } : {}) };
      return type === 'String' ? { revisionType: 'String', string: body } : { revisionType: 'AppSpecContent', appSpecContent: body };
    }
  }
}

/**
 * revisionKey is the canonical text of a revision, equal for two locations exactly when they name
 * the same revision: `s3://bucket/key?versionId=V&etag=E#bundleType`, `github://account/repo@commit`,
 * and for inline content `string:sha256:<hex>` / `appspec:sha256:<hex>` of the content itself.
 */
export function revisionKey(location: RevisionLocation): string {
  switch (location.revisionType) {
    case 'S3': {
      const s3 = location.s3Location;
      if (s3 === undefined) throw new Error('S3 revision without s3Location');
      const query = [s3.version !== undefined ? `versionId=${encodeURIComponent(s3.version)}` : '', s3.eTag !== undefined ? `etag=${encodeURIComponent(s3.eTag)}` : '']
        .filter((q) => q !== '')
        .join('&');
      return `s3://${s3.bucket}/${s3.key}${query === '' ? '' : `?${query}`}#${s3.bundleType}`;
    }
    case 'GitHub': {
      const gh = location.gitHubLocation;
      if (gh === undefined) throw new Error('GitHub revision without gitHubLocation');
      return `github://${gh.repository}@${gh.commitId.toLowerCase()}`;
    }
    case 'String':
    case 'AppSpecContent': {
      const body = location.revisionType === 'String' ? location.string : location.appSpecContent;
      if (body === undefined) throw new Error(`${location.revisionType} revision without content`);
      const digest = crypto.createHash('sha256').update(body.content, 'utf8').digest('hex');
      return `${location.revisionType === 'String' ? 'string' : 'appspec'}:sha256:${digest}`;
    }
  }
}

/** genericRevisionInfo is CodeDeploy's GenericRevisionInfo of a stored revision (times in epoch seconds). */
export function genericRevisionInfo(record: RevisionRecord) {
  return {
    description: record.description,
    deploymentGroups: record.deploymentGroups,
    firstUsedTime: epochSeconds(record.firstUsedTime),
    lastUsedTime: epochSeconds(record.lastUsedTime),
    registerTime: epochSeconds(record.registerTime),
  };
}

/** revisionInfoShape is CodeDeploy's RevisionInfo: the location and its generic information. */
export function revisionInfoShape(record: RevisionRecord) {
  return { revisionLocation: record.revisionLocation, genericRevisionInfo: genericRevisionInfo(record) };
}
