/** describeAwsError makes an AWS SDK failure one line: the AWS error code when there is one, and its message. */
export function describeAwsError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const message = err.message.split('\n')[0] ?? '';
  return err.name !== 'Error' && err.name !== '' && !message.startsWith(err.name) ? `${err.name}: ${message}` : message;
}
