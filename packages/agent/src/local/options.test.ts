import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { allPossibleEvents, bundleType, checkLocalBundle, classifyLocation, localDeploymentId, orderEvents } from './options.js';
import { tempDir, writeTree } from '../testing/fixtures.js';

let work = '';
afterEach(() => work && fs.rmSync(work, { recursive: true, force: true }));

describe('bundleType', () => {
  it('defaults to directory and refuses unknown types', () => {
    expect(bundleType(undefined)).toBe('directory');
    expect(() => bundleType('rar')).toThrow('rar is not a valid type. Must be one of tgz,tar,zip,directory');
  });
});

describe('classifyLocation', () => {
  it('makes local paths absolute and picks file or directory by type', () => {
    expect(classifyLocation('b.tgz', 'tgz', '/w')).toEqual({ type: 'LocalFile', location: '/w/b.tgz', bundleType: 'tgz' });
    expect(classifyLocation('file:///srv/rev', 'directory', '/w')).toEqual({ type: 'LocalDirectory', location: '/srv/rev' });
  });
  it('reads S3 locations with version and etag (LC-10)', () => {
    expect(classifyLocation('s3://bucket/path/app.zip?versionId=v1&etag=e1', 'zip', '/w')).toEqual({ type: 'S3', bucket: 'bucket', key: 'path/app.zip', bundleType: 'zip', version: 'v1', etag: 'e1' });
    expect(() => classifyLocation('s3://bucket', 'zip', '/w')).toThrow("is not in the expected format of 's3://bucket/key'");
  });
  it('refuses http (LC-03) and unknown schemes', () => {
    expect(() => classifyLocation('http://example.com/x.zip', 'zip', '/w')).toThrow('cannot be http, only encrypted (https)');
    expect(() => classifyLocation('ftp://example.com/x.zip', 'zip', '/w')).toThrow('cannot be determined to be S3, Github, or a local file / directory');
  });
  it('reads GitHub URLs', () => {
    expect(classifyLocation('https://github.com/acme/app', 'directory', '/w')).toEqual({ type: 'GitHub', repository: 'acme/app', commitId: 'HEAD', bundleType: 'zip' });
    expect(classifyLocation('https://api.github.com/repos/acme/app/tarball/abc123', 'tar', '/w')).toEqual({ type: 'GitHub', repository: 'acme/app', commitId: 'abc123', bundleType: 'tar' });
  });
});

describe('checkLocalBundle', () => {
  it('refuses a missing path, a file given as directory and a directory given as archive (LC-02)', () => {
    work = tempDir();
    writeTree(work, { 'b.zip': 'zip', 'rev/appspec.yml': 'version: 0.0' });
    expect(() => checkLocalBundle({ type: 'LocalFile', location: `${work}/none.zip`, bundleType: 'zip' }, undefined)).toThrow('specified as a file or directory which does not exist');
    expect(() => checkLocalBundle({ type: 'LocalDirectory', location: `${work}/b.zip` }, undefined)).toThrow('specified with type directory but it is a file');
    expect(() => checkLocalBundle({ type: 'LocalFile', location: `${work}/rev`, bundleType: 'zip' }, undefined)).toThrow('specified as a compressed local file but it is a directory');
    expect(() => checkLocalBundle({ type: 'LocalDirectory', location: `${work}/rev` }, undefined)).not.toThrow();
  });
  it('wants an AppSpec at the root of a directory bundle', () => {
    work = tempDir();
    writeTree(work, { 'rev/other.txt': 'x', 'yaml/appspec.yaml': 'version: 0.0' });
    expect(() => checkLocalBundle({ type: 'LocalDirectory', location: `${work}/rev` }, undefined)).toThrow(`Expecting appspec file at location ${work}/rev/appspec.yml or ${work}/rev/appspec.yaml but it is not found there`);
    expect(() => checkLocalBundle({ type: 'LocalDirectory', location: `${work}/rev` }, 'my.yml')).toThrow(`Expecting appspec file at location ${work}/rev/my.yml`);
    expect(() => checkLocalBundle({ type: 'LocalDirectory', location: `${work}/yaml` }, undefined)).not.toThrow();
  });
});

describe('orderEvents', () => {
  it('runs every default event without --events', () => {
    expect(orderEvents(undefined)).toEqual(['BeforeBlockTraffic', 'AfterBlockTraffic', 'ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService', 'BeforeAllowTraffic', 'AfterAllowTraffic']);
  });
  it('adds DownloadBundle and Install in front and in order (LC-05, LC-06)', () => {
    expect(orderEvents('DownloadBundle,ApplicationStart')).toEqual(['DownloadBundle', 'Install', 'ApplicationStart']);
    expect(orderEvents('ApplicationStart,CustomEvent')).toEqual(['DownloadBundle', 'Install', 'ApplicationStart', 'CustomEvent']);
    expect(orderEvents('Stop,Start,HealthCheck')).toEqual(['DownloadBundle', 'Install', 'Stop', 'Start', 'HealthCheck']);
  });
  it('refuses new-revision events before DownloadBundle or Install (LC-04)', () => {
    expect(() => orderEvents('ApplicationStart,DownloadBundle')).toThrow('The only events that can be specified before DownloadBundle are BeforeBlockTraffic,AfterBlockTraffic,ApplicationStop');
    expect(() => orderEvents('DownloadBundle,AfterInstall,Install')).toThrow('The only events that can be specified before Install are BeforeBlockTraffic,AfterBlockTraffic,ApplicationStop,DownloadBundle,BeforeInstall');
    expect(() => orderEvents(' , ')).toThrow('--events lists no event');
  });
  it('adds listed custom events to the possible events', () => {
    expect(allPossibleEvents(['DownloadBundle', 'Custom'])).toContain('Custom');
  });
});

describe('localDeploymentId', () => {
  it("has codedeploy-local's form", () => {
    expect(localDeploymentId()).toMatch(/^d-[A-Z0-9]{9}-local$/);
  });
});
