/**
 * isWebhookUrl tells a trigger target that is a webhook: an absolute http:// or https:// URL with a
 * host (the other kind of target is an SNS topic ARN). The coordinator's API and the `fleetdeploy`
 * CLI judge targets by the same rule.
 */
export function isWebhookUrl(text: string): boolean {
  if (!/^https?:\/\//i.test(text)) return false;
  try {
    return new URL(text).hostname !== '';
  } catch {
    return false;
  }
}
