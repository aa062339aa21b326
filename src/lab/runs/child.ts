// The run process: `proxlab __child <runDir>`. Reads run.json, runs the experiment, keeps a
// heartbeat, reports progress over IPC, and records the outcome in run.json itself (so the
// outcome survives even if the parent is gone).
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunContext } from '../../core/experiment';
import { CancelledError, createRunContext } from './context';
import { getExperiment } from './registry';
import type { ChildMessage } from './runner';
import { HEARTBEAT_FILE, readRunRecord, writeRunRecord, type RunRecord } from './store';

function send(m: ChildMessage): void {
  if (process.send && process.connected) {
    try {
      process.send(m);
    } catch {
      // parent gone: the run goes on and records its outcome in run.json
    }
  }
}

export async function runChild(runDir: string): Promise<number> {
  const rec = readRunRecord(runDir);
  if (!rec) {
    process.stderr.write(`no readable run.json in ${runDir}\n`);
    return 2;
  }
  const exp = getExperiment(rec.experiment);
  const finish = (patch: Partial<RunRecord>) => {
    const latest = readRunRecord(runDir) ?? rec;
    writeRunRecord(runDir, { ...latest, ...patch, endedAt: new Date().toISOString() });
  };
  if (!exp) {
    finish({ status: 'failed', error: `unknown experiment '${rec.experiment}'` });
    send({ type: 'done', status: 'failed', error: `unknown experiment '${rec.experiment}'` });
    return 1;
  }

  const controller = new AbortController();
  process.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'cancel') controller.abort();
  });
  process.on('SIGTERM', () => {
    controller.abort();
    // Give the experiment a moment to stop at its next checkpoint, then record and leave.
    setTimeout(() => {
      finish({ status: 'cancelled' });
      process.exit(143);
    }, 1500).unref();
  });
  process.on('SIGINT', () => controller.abort());

  const heartbeat = join(runDir, HEARTBEAT_FILE);
  writeFileSync(heartbeat, '');
  const beat = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(heartbeat, now, now);
    } catch {
      // run folder deleted under us
    }
  }, 2000);
  beat.unref();

  writeRunRecord(runDir, { ...rec, pid: process.pid, startedAt: new Date().toISOString() });
  let lastProgressWrite = 0;
  const ctx = createRunContext({
    runDir,
    config: rec.config,
    seed: rec.seed,
    device: rec.device,
    threads: rec.threads,
    signal: controller.signal,
    onProgress: (p) => {
      send({ type: 'progress', ...p });
      const now = Date.now();
      if (now - lastProgressWrite > 1000 || p.step >= p.total) {
        lastProgressWrite = now;
        const latest = readRunRecord(runDir);
        if (latest && latest.status === 'running') writeRunRecord(runDir, { ...latest, progress: { step: p.step, total: p.total } });
      }
    },
    onInfo: (message) => {
      send({ type: 'info', message });
      process.stderr.write(message + '\n');
    },
  });

  try {
    const summary = await exp.run(ctx as RunContext<any>);
    finish({ status: 'completed', summary: summary ?? undefined });
    send({ type: 'done', status: 'completed' });
    return 0;
  } catch (e) {
    if (e instanceof CancelledError || controller.signal.aborted) {
      finish({ status: 'cancelled' });
      send({ type: 'done', status: 'cancelled' });
      return 0;
    }
    const message = (e as Error)?.message ?? String(e);
    finish({ status: 'failed', error: message });
    send({ type: 'done', status: 'failed', error: message });
    process.stderr.write(`${(e as Error)?.stack ?? message}\n`);
    return 1;
  } finally {
    clearInterval(beat);
  }
}
