// The real-VS-Code harness: code-server (the VS Code workbench served over HTTP, installed by
// scripts/e2e/install-code-server.sh into .cache/code-server) with the built extension in a
// fresh --extensions-dir, driven by Playwright through Debian's chromium.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');
export const CODE_SERVER_VERSION = process.env.CODE_SERVER_VERSION ?? '4.100.3';
export const CODE_SERVER_DIR = process.env.PROXLAB_CODE_SERVER_DIR ?? join(ROOT, '.cache/code-server', CODE_SERVER_VERSION);
export const CODE_SERVER_ENTRY = join(CODE_SERVER_DIR, 'out/node/entry.js');

export function codeServerMissing(): string | undefined {
  if (!existsSync(CODE_SERVER_ENTRY)) return `code-server ${CODE_SERVER_VERSION} is not installed at ${CODE_SERVER_DIR} (run: bash scripts/e2e/install-code-server.sh)`;
  return undefined;
}

/** Builds dist/ (extension, CLI, webview) with the project's esbuild script. */
export function build(): void {
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
}

/** Installs the unpacked extension as <extensionsDir>/proxlab.prox-lab-<version>/, as VS Code would. */
export function installExtension(extensionsDir: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const dir = join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true, filter: (p) => !p.endsWith('.map') });
  cpSync(join(ROOT, 'media'), join(dir, 'media'), { recursive: true });
  if (existsSync(join(ROOT, 'models'))) symlinkSync(join(ROOT, 'models'), join(dir, 'models'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface CodeServer {
  url: string;
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export async function startCodeServer(opts: { userDataDir: string; extensionsDir: string; folder: string; settings?: Record<string, unknown> }): Promise<CodeServer> {
  mkdirSync(join(opts.userDataDir, 'User'), { recursive: true });
  writeFileSync(
    join(opts.userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'security.workspace.trust.enabled': false,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'update.mode': 'none',
        'workbench.enableExperiments': false,
        'chat.disableAIFeatures': true,
        'workbench.colorTheme': 'Default Dark Modern',
        ...opts.settings,
      },
      null,
      2,
    ),
  );
  const port = await freePort();
  const args = [
    CODE_SERVER_ENTRY,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', opts.userDataDir,
    '--extensions-dir', opts.extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--config', join(opts.userDataDir, 'code-server.yaml'),
    opts.folder,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, PROXLAB_RUNS_DIR: '' } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${out}`);
    try {
      const r = await fetch(`${url}healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`code-server did not start within 60 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    process: child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return;
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      await new Promise((r) => {
        const t = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // gone
          }
          r(undefined);
        }, 5000);
        child.once('exit', () => (clearTimeout(t), r(undefined)));
      });
      // the extension host and its helpers share the process group and may outlive the main process
      const groupAlive = () => {
        try {
          process.kill(-child.pid!, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 50 && groupAlive(); i++) await new Promise((r) => setTimeout(r, 100));
      if (groupAlive()) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }
    },
  };
}

/** Files named `name` below `dir` (the extension host's log folder is several levels down). */
export function findFiles(dir: string, name: string, depth = 8): string[] {
  if (depth < 0 || !existsSync(dir)) return [];
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) out.push(...findFiles(p, name, depth - 1));
    else if (n === name) out.push(p);
  }
  return out;
}
