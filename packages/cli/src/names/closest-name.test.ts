import { describe, expect, it } from 'vitest';
import { closestName } from './closest-name.js';

describe('closestName', () => {
  it('finds a typo, a case slip and a near config name', () => {
    expect(closestName('shpo', ['blog', 'shop'])).toBe('shop');
    expect(closestName('Web', ['api', 'web'])).toBe('web');
    expect(closestName('CodeDeployDefault.OneAtATim', ['CodeDeployDefault.AllAtOnce', 'CodeDeployDefault.HalfAtATime', 'CodeDeployDefault.OneAtATime'])).toBe('CodeDeployDefault.OneAtATime');
  });

  it('suggests nothing for a different name or an empty list', () => {
    expect(closestName('billing', ['shop', 'blog'])).toBeUndefined();
    expect(closestName('shop', [])).toBeUndefined();
  });
});
