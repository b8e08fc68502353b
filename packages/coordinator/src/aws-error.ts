/** describeAwsError makes an AWS SDK failure one line: the AWS error code when there is one, and its message. */
export function describeAwsError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const message = err.message.split('\n')[0] ?? '';
  // The SDK's own words name neither the setting nor where it is read from.
  if (message === 'Region is missing') return 'no AWS region is set for the coordinator: set AWS_REGION (or a region in its AWS profile)';
  return err.name !== 'Error' && err.name !== '' && !message.startsWith(err.name) ? `${err.name}: ${message}` : message;
}
