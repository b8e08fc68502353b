/**
 * `simulate --local-aws`: a local stand-in for the AWS APIs a Lambda or ECS deployment uses, so AWS's
 * walkthroughs run on one machine. moto_server (the Python package `moto[server]`, an independent
 * implementation of Lambda, ECS, Elastic Load Balancing, CloudWatch, SNS and IAM) listens on a free loopback port;
 * the Lambda front (lambda-front.ts) sits in front of it and plays the hook functions through the
 * hook runner. The coordinator gets the front as AWS_ENDPOINT_URL_LAMBDA / _ECS / _ELASTIC_LOAD_BALANCING_V2 / _CLOUDWATCH / _SNS with a
 * region and dummy credentials (moto checks no signature).
 */
import { findExecutable, freeLoopbackPort } from '@fleetdeploy/shared';
import { CliError, CliErrorCode } from '../cli-error.js';
import type { HookRunner } from './hook-runner.js';
import type { LambdaFront } from './lambda-front.js';
import { startLambdaFront } from './lambda-front.js';
import { startKeptProcess } from './kept-process.js';

/** MOTO_INSTALL is what to install when moto_server is missing (Debian does not package it). */
export const MOTO_INSTALL = 'moto_server is not on PATH: --local-aws needs the Python package moto[server] (pip install "moto[server]")';

/** LOCAL_AWS_REGION and LOCAL_AWS_KEY are what the coordinator and the AWS CLI use against moto. */
export const LOCAL_AWS_REGION = 'us-east-1';
const LOCAL_AWS_KEY = 'testing';

/** MOTO_START_MS is how long moto_server may take to answer (it imports a lot of Python). */
const MOTO_START_MS = 30_000;

/** findMotoServer is the moto_server command on PATH, or undefined. */
export function findMotoServer(envPath = process.env.PATH ?? ''): string | undefined {
  return findExecutable('moto_server', envPath);
}

/** LocalAws is a running moto_server with the Lambda front before it. */
export interface LocalAws {
  /** The endpoint for every service (the front): Lambda, CloudWatch, SNS, IAM. */
  readonly url: string;
  /** moto_server's own URL. */
  readonly motoUrl: string;
  readonly front: LambdaFront;
  /** The variables the coordinator is started with. */
  readonly coordinatorEnv: Readonly<Record<string, string>>;
  /** stop closes the front and ends moto_server. Safe to call twice. */
  stop(): Promise<void>;
}

/** localAwsEnv is how the coordinator (and a shell) reaches the local AWS at `url`. */
export function localAwsEnv(url: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_LAMBDA: url,
    AWS_ENDPOINT_URL_CLOUDWATCH: url,
    AWS_ENDPOINT_URL_SNS: url,
    AWS_ENDPOINT_URL_ECS: url,
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: url,
    AWS_REGION: LOCAL_AWS_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_AWS_KEY,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_KEY,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * localAwsExportLines are the lines `simulate` prints for the AWS CLI: the AWS APIs go to the local
 * endpoint, `aws deploy` to the coordinator; the coordinator's admin key signs both (moto accepts any).
 */
export function localAwsExportLines(url: string, apiUrl: string): string[] {
  return [
    `export AWS_ENDPOINT_URL_LAMBDA=${url} AWS_ENDPOINT_URL_CLOUDWATCH=${url} AWS_ENDPOINT_URL_SNS=${url} AWS_ENDPOINT_URL_IAM=${url}`,
    `export AWS_ENDPOINT_URL_ECS=${url} AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2=${url} AWS_ENDPOINT_URL_EC2=${url}`,
    `export AWS_ENDPOINT_URL_CODEDEPLOY=${apiUrl}`,
  ];
}

/** startLocalAws starts moto_server and the front; `logFile` gets moto's output. */
export async function startLocalAws(logFile: string, runner: HookRunner): Promise<LocalAws> {
  const moto = findMotoServer();
  if (moto === undefined) throw new CliError(CliErrorCode.MISSING_TOOL, MOTO_INSTALL);
  const port = await freeLoopbackPort();
  const kept = startKeptProcess(moto, ['-p', String(port), '-H', '127.0.0.1'], logFile);
  const end = kept.stop;
  const motoUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForMoto(motoUrl, () => !kept.running(), logFile);
  } catch (err) {
    await end();
    throw err;
  }
  const front = await startLambdaFront(motoUrl, (call) => runner.onInvoke(call));
  let stopping: Promise<void> | undefined;
  return {
    url: front.url,
    motoUrl,
    front,
    coordinatorEnv: Object.freeze(localAwsEnv(front.url)),
    stop: () => (stopping ??= front.close().then(end)),
  };
}

/** waitForMoto polls moto's own API until it answers, or fails naming its log. */
async function waitForMoto(url: string, exited: () => boolean, logFile: string): Promise<void> {
  const deadline = Date.now() + MOTO_START_MS;
  for (;;) {
    if (exited()) throw new CliError(CliErrorCode.LOCAL_AWS_FAILED, `moto_server exited before answering on ${url} (its log: ${logFile})`);
    try {
      await fetch(`${url}/moto-api/data.json`);
      return;
    } catch {
      if (Date.now() > deadline) throw new CliError(CliErrorCode.LOCAL_AWS_FAILED, `moto_server did not answer on ${url} within ${MOTO_START_MS / 1000} s (its log: ${logFile})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
