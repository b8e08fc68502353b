/**
 * GitHub connections: ListGitHubAccountTokenNames and DeleteGitHubAccountToken. AWS keeps OAuth
 * connections made in its console; this coordinator has at most one token, from its configuration
 * (`github_token`), listed under that key's name. It cannot be deleted through the API — it is
 * removed where it was set.
 */
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { optionalString, page, pageStart } from '../input.js';

/** githubConnectionOperations are the GitHub connection operations of the CodeDeploy API. */
export const githubConnectionOperations = {
  ListGitHubAccountTokenNames(input: Input, ctx: ApiContext) {
    const { items, nextToken } = page(ctx.github.tokenNames, pageStart(input), 100);
    return { tokenNameList: items, nextToken };
  },

  DeleteGitHubAccountToken(input: Input, ctx: ApiContext) {
    const name = optionalString(input, 'tokenName', { invalid: 'InvalidGitHubAccountTokenNameException', max: 100 });
    if (name === undefined || name === '') throw new ApiError('GitHubAccountTokenNameRequiredException', 'tokenName is required');
    if (!ctx.github.tokenNames.includes(name)) {
      const known = ctx.github.tokenNames.length === 0 ? 'none is configured' : `the coordinator has ${ctx.github.tokenNames.join(', ')}`;
      throw new ApiError('GitHubAccountTokenDoesNotExistException', `No GitHub account connection named ${name} exists; ${known}`);
    }
    throw new ApiError('OperationNotSupportedException', `${name} comes from the coordinator's configuration; remove github_token there and restart the coordinator`);
  },
};
