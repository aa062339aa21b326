// Runs the bundled CLI (dist/cli.js) as a child process for one-shot jobs (claim checks, export),
// so long numeric work never runs on the extension host's thread.
import { fork } from 'node:child_process';
import type * as vscode from 'vscode';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(cliPath: string, args: string[], opts: { onStderrLine?: (line: string) => void; token?: vscode.CancellationToken } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
    const child = fork(cliPath, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      stderr = (stderr + text).slice(-20000);
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) opts.onStderrLine?.(l);
    });
    opts.token?.onCancellationRequested(() => child.kill('SIGTERM'));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 130 : 1), stdout, stderr }));
  });
}
