/**
 * `fleetdeploy revisions -a APP`: the revisions registered with an application, newest first, with
 * where each is, when it was registered and first and last deployed, to which groups, and its
 * description (ListApplicationRevisions, then BatchGetApplicationRevisions 25 at a time).
 */
import { BatchGetApplicationRevisionsCommand, paginateListApplicationRevisions } from '@aws-sdk/client-codedeploy';
import type { RevisionInfo, RevisionLocation } from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import type { OutputFormat } from '../output/format.js';
import { isoTime, jsonDocument } from '../output/format.js';
import { formatTable } from '../output/table.js';

/** BATCH_REVISIONS is how many revisions one BatchGetApplicationRevisions call takes. */
const BATCH_REVISIONS = 25;

/** runRevisions prints the application's revisions; resolves with the exit code. */
export async function runRevisions(aws: AwsContext, applicationName: string, output: OutputFormat, line: (text: string) => void): Promise<number> {
  const locations = await callApi(`ListApplicationRevisions ${applicationName}`, aws.endpoint, async () => {
    const all: RevisionLocation[] = [];
    const query = { applicationName, sortBy: 'registerTime', sortOrder: 'descending' } as const;
    for await (const page of paginateListApplicationRevisions({ client: aws.codedeploy }, query)) all.push(...(page.revisions ?? []));
    return all;
  });
  const revisions: RevisionInfo[] = [];
  for (let i = 0; i < locations.length; i += BATCH_REVISIONS) {
    const batch = await callApi('BatchGetApplicationRevisions', aws.endpoint, () =>
      aws.codedeploy.send(new BatchGetApplicationRevisionsCommand({ applicationName, revisions: locations.slice(i, i + BATCH_REVISIONS) })),
    );
    revisions.push(...(batch.revisions ?? []));
  }
  // BatchGet answers in its own order; keep the list's (newest registered first).
  const order = new Map(locations.map((l, i) => [locationText(l), i]));
  revisions.sort((a, b) => (order.get(locationText(a.revisionLocation)) ?? 0) - (order.get(locationText(b.revisionLocation)) ?? 0));
  if (output === 'json') {
    line(jsonDocument({ applicationName, revisions }));
    return 0;
  }
  if (revisions.length === 0) {
    line(`No revisions registered with ${applicationName} yet: fleetdeploy push -a ${applicationName} -s DIR --s3-location s3://BUCKET/KEY registers one`);
    return 0;
  }
  formatTable(
    ['LOCATION', 'REGISTERED', 'FIRST USED', 'LAST USED', 'GROUPS', 'DESCRIPTION'],
    revisions.map((r) => {
      const info = r.genericRevisionInfo ?? {};
      return [locationText(r.revisionLocation), isoTime(info.registerTime), isoTime(info.firstUsedTime), isoTime(info.lastUsedTime), (info.deploymentGroups ?? []).join(',') || '-', info.description ?? ''];
    }),
  ).forEach(line);
  return 0;
}

/**
 * locationText is a revision's location on one line: `s3://revisions/shop/v1.zip (zip, ETag 1a2b…)`,
 * `github:owner/repo@0123abcd`, or the revision type for an inline AppSpec.
 */
export function locationText(location: RevisionLocation | undefined): string {
  const s3 = location?.s3Location;
  if (s3 !== undefined) {
    const details = [s3.bundleType, s3.eTag === undefined ? undefined : `ETag ${s3.eTag}`, s3.version === undefined ? undefined : `version ${s3.version}`].filter((d) => d !== undefined);
    return `s3://${s3.bucket ?? '?'}/${s3.key ?? '?'}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
  }
  const gh = location?.gitHubLocation;
  if (gh !== undefined) return `github:${gh.repository ?? '?'}@${gh.commitId ?? '?'}`;
  return location?.revisionType ?? '?';
}
