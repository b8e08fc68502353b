import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { winswXml } from './winsw-service.js';

const input = {
  node: 'C:\\Program Files\\nodejs\\node.exe',
  script: 'C:\\Program Files\\nodejs\\node_modules\\@fleetdeploy\\agent\\bin\\fleetdeploy-agent.js',
  configFile: 'C:\\ProgramData\\Amazon\\CodeDeploy\\conf.yml',
  logDir: 'C:\\ProgramData\\Amazon\\CodeDeploy\\log',
  shutdownWaitSeconds: 30,
};

describe('winswXml', () => {
  it('is well-formed XML that WinSW reads: the agent run with its configuration, restarted on failure, stopped within the shutdown wait', () => {
    const xml = winswXml(input);
    expect(XMLValidator.validate(xml)).toBe(true);
    const { service } = new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(xml) as { service: Record<string, unknown> };
    expect(service).toMatchObject({
      id: 'fleetdeploy-agent',
      executable: input.node,
      arguments: `--max-semi-space-size=1 "${input.script}" run --config C:\\ProgramData\\Amazon\\CodeDeploy\\conf.yml`,
      startmode: 'Automatic',
      onfailure: { '@_action': 'restart', '@_delay': '5 sec' },
      stoptimeout: '60 sec',
      logpath: input.logDir,
      log: { '@_mode': 'roll-by-size', sizeThreshold: '10240', keepFiles: '8' },
    });
  });

  it('escapes what XML would read as markup, and refuses a path that is not an absolute Windows one', () => {
    const xml = winswXml({ ...input, configFile: 'D:\\R&D <x>\\conf.yml', shutdownWaitSeconds: 5 });
    expect(XMLValidator.validate(xml)).toBe(true);
    const { service } = new XMLParser({ parseTagValue: false }).parse(xml) as { service: { arguments: string; stoptimeout: string } };
    expect(xml).toContain('--config "D:\\R&amp;D &lt;x&gt;\\conf.yml"');
    expect(service.arguments).toContain('--config "D:\\R&D <x>\\conf.yml"');
    expect(service.stoptimeout).toBe('35 sec');
    expect(() => winswXml({ ...input, node: 'node.exe' })).toThrow('the Windows service needs an absolute Windows path without quotes for the node, got "node.exe"');
  });
});
