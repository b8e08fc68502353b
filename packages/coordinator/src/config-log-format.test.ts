import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';

describe('log_format', () => {
  it('is json by default, pretty from the file, and the flag wins over the file', () => {
    expect(resolveConfig(undefined, '', {}).logFormat).toBe('json');
    expect(resolveConfig('log_format: pretty\n', 'c.yml', {}).logFormat).toBe('pretty');
    expect(resolveConfig('log_format: pretty\n', 'c.yml', { logFormat: 'json' }).logFormat).toBe('json');
  });
  it('refuses anything but json or pretty, naming the file and key or the flag', () => {
    expect(() => resolveConfig('log_format: text\n', 'c.yml', {})).toThrow('c.yml: log_format: expected json or pretty, got "text"');
    expect(() => resolveConfig(undefined, '', { logFormat: 'xml' })).toThrow('--log-format: expected json or pretty, got "xml"');
  });
});
