import { describe, expect, it } from 'vitest';
import { explainFailure } from './aws-failure.js';

const E = 'http://127.0.0.1:7180';

describe('explainFailure', () => {
  it('names an unreachable coordinator, whatever the socket error is wrapped in', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(explainFailure('GetDeployment', new AggregateError([refused]), E).message).toBe(
      `cannot reach the coordinator at ${E} (ECONNREFUSED): check --endpoint-url or FLEETDEPLOY_ENDPOINT, or start one with fleetdeploy simulate`,
    );
    expect(explainFailure('x', Object.assign(new Error('wrapped'), { cause: { code: 'ENOTFOUND' } }), E).code).toBe('UNREACHABLE');
  });

  it('gives an AWS exception its name and first message line', () => {
    const err = Object.assign(new Error('No application found for name: shop\nmore'), { name: 'ApplicationDoesNotExistException', $metadata: { httpStatusCode: 400 } });
    expect(explainFailure('CreateDeployment', err, E).message).toBe('CreateDeployment: ApplicationDoesNotExistException: No application found for name: shop');
  });

  it('says when the endpoint is not a coordinator, and when credentials are missing', () => {
    expect(explainFailure('GetDeployment', Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: { httpStatusCode: 404 } }), E).message).toMatch(/did not answer as a fleetdeploy coordinator \(HTTP 404\)/);
    expect(explainFailure('x', Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }), E).code).toBe('NO_CREDENTIALS');
  });
});
