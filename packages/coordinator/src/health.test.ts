import { describe, expect, it } from 'vitest';
import { createHealth } from './health.js';

describe('coordinator health', () => {
  it('is unavailable until serving, ok while serving with the store open, unavailable while stopping', () => {
    let open = true;
    const h = createHealth(() => open);
    expect(h.report()).toEqual({ ok: false, reason: 'the deployment engine has not started yet' });
    h.serving();
    expect(h.report()).toEqual({ ok: true });
    open = false;
    expect(h.report()).toEqual({ ok: false, reason: 'the database is closed' });
    open = true;
    h.stopping();
    expect(h.report()).toEqual({ ok: false, reason: 'the coordinator is shutting down' });
    h.serving();
    expect(h.report().ok).toBe(false); // a stopping coordinator does not become healthy again
  });

  it('keeps the first failure until stopping: a later one, or serving, does not replace it', () => {
    const h = createHealth(() => true);
    h.serving();
    h.failed('the database /d/coordinator.db is corrupt');
    h.failed('something after');
    h.serving();
    expect(h.report()).toEqual({ ok: false, reason: 'the database /d/coordinator.db is corrupt' });
    h.stopping();
    expect(h.report()).toEqual({ ok: false, reason: 'the coordinator is shutting down' });
    h.failed('during shutdown');
    expect(h.report()).toEqual({ ok: false, reason: 'the coordinator is shutting down' });
  });

  it('a failure before serving is reported, and serving does not hide it', () => {
    const h = createHealth(() => true);
    h.failed('engine failed at start');
    h.serving();
    expect(h.report()).toEqual({ ok: false, reason: 'engine failed at start' });
  });
});
