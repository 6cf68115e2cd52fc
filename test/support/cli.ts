import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/local/service.ts';

export const TFA_BIN = join(PROJECT_ROOT, 'bin/tfa.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The `tfa` command spawned as a person runs it: in `cwd`, with only PATH, TFA_URL and
 * TFA_KEY in its environment and no standard input; answers its exit code and output.
 */
export function runTfa(args: string[], options: { cwd: string; url: string; key?: string }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TFA_BIN, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH, TFA_URL: options.url, TFA_KEY: options.key ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
