// Starting, following and stopping runs. A run is a child process started by the lab's runner
// (forked with ELECTRON_RUN_AS_NODE=1 inside VS Code), so the extension host never blocks; a
// cancellable progress notification shows step, headline metric and ETA; a failure shows its
// error with an "Open Run" button.
import * as vscode from 'vscode';
import type { RunSpec } from '../lab/runs/runner';
import { progressMessage } from './format';
import { lab } from './lab';
import type { RunPanels } from './panels';
import type { Services } from './services';

export async function startRunWithProgress(services: Services, panels: RunPanels, spec: RunSpec): Promise<string | undefined> {
  const { startRun } = await lab.runner();
  let handle;
  try {
    handle = startRun(spec, { runsDir: services.runsDir(), cliPath: services.cliPath() });
  } catch (e) {
    // a config or spec error: nothing was started
    void vscode.window.showErrorMessage(`Prox Lab: cannot start ${spec.experiment}: ${(e as Error).message}`);
    return undefined;
  }
  const id = handle.id;
  services.active.set(id, handle);
  services.log.info(`run ${id} started (${spec.experiment}, task ${spec.task ?? 'default'}, device ${spec.device ?? 'cpu'})`);
  handle.onInfo((m) => services.log.info(`[${id}] ${m}`));
  services.fireRunsChanged();
  panels.open(id);

  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Prox Lab: ${spec.experiment}`, cancellable: true },
    async (progress, token) => {
      token.onCancellationRequested(() => void handle.cancel());
      let lastPct = 0;
      handle.onProgress((p) => {
        const pct = p.total > 0 ? Math.min(100, (100 * p.step) / p.total) : 0;
        progress.report({ message: progressMessage(p), increment: Math.max(0, pct - lastPct) });
        lastPct = Math.max(lastPct, pct);
      });
      const rec = await handle.done;
      services.active.delete(id);
      services.fireRunsChanged();
      services.log.info(`run ${id} ${rec.status}${rec.error ? `: ${rec.error}` : ''}`);
      if (rec.status === 'failed' || rec.status === 'interrupted') {
        void vscode.window.showErrorMessage(`Prox Lab: run ${id} failed: ${rec.error ?? 'unknown error'}`, 'Open Run').then((b) => {
          if (b === 'Open Run') panels.open(id);
        });
      } else if (rec.status === 'completed') {
        vscode.window.setStatusBarMessage(`$(pass) Prox Lab: ${spec.experiment} run completed`, 5000);
      }
    },
  );
  return id;
}

/** Stops a run: through its handle when this window started it, else by signalling its process. */
export async function stopRun(services: Services, id: string): Promise<void> {
  const handle = services.active.get(id);
  if (handle) {
    await handle.cancel();
    return;
  }
  const rec = await services.getRun(id);
  if (!rec) throw new Error(`no run '${id}'`);
  if (rec.status !== 'running') {
    void vscode.window.showInformationMessage(`Prox Lab: run ${id} is not running (${rec.status}).`);
    return;
  }
  if (!rec.pid) throw new Error(`run ${id} has no process id to stop`);
  try {
    process.kill(rec.pid, 'SIGTERM');
  } catch (e) {
    throw new Error(`cannot stop run ${id} (pid ${rec.pid}): ${(e as Error).message}`, { cause: e });
  }
  services.fireRunsChanged();
}
