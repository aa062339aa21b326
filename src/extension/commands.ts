// Command handlers ("Prox Lab: …"). Each loads the lab lazily; errors are shown, never thrown
// into VS Code's command machinery.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord } from '../lab/runs/store';
import { claimsMarkdown } from './claims-report';
import { runCli } from './cli-process';
import { shortDate } from './format';
import { lab } from './lab';
import { newExperimentSpec, configForm } from './new-experiment';
import type { RunPanels } from './panels';
import { startRunWithProgress, stopRun } from './run-control';
import { runIdOf } from './runs-tree';
import type { Services } from './services';

type RunItem = vscode.QuickPickItem & { run: RunRecord };

function runItems(runs: RunRecord[]): RunItem[] {
  return runs.map((r) => ({ label: `${r.experiment} · ${shortDate(r.createdAt)}`, description: r.status, detail: r.id, run: r }));
}

async function pickRun(services: Services, title: string, filter: (r: RunRecord) => boolean = () => true): Promise<string | undefined> {
  const runs = (await services.listRuns()).filter(filter);
  if (!runs.length) {
    void vscode.window.showInformationMessage(`Prox Lab: no runs to choose from in ${services.runsDir()}.`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(runItems(runs), { title, placeHolder: 'Run', matchOnDetail: true });
  return pick?.run.id;
}

export function registerCommands(services: Services, panels: RunPanels, refreshAll: () => void): vscode.Disposable[] {
  const guard =
    (name: string, fn: (...args: any[]) => Promise<unknown>) =>
    async (...args: any[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        services.log.error(`${name}: ${(e as Error).stack ?? String(e)}`);
        void vscode.window.showErrorMessage(`Prox Lab: ${(e as Error).message}`);
        return undefined;
      }
    };
  const reg = (id: string, fn: (...args: any[]) => Promise<unknown>) => vscode.commands.registerCommand(id, guard(id, fn));

  return [
    reg('proxlab.newExperiment', async (arg?: unknown) => {
      const spec = await newExperimentSpec(services, { experimentId: typeof arg === 'string' ? arg : undefined, title: 'Prox Lab: New Experiment' });
      return spec ? startRunWithProgress(services, panels, spec) : undefined;
    }),
    reg('proxlab.runOptimizer', async () => {
      const spec = await newExperimentSpec(services, { kinds: ['solver', 'optimizer'], title: 'Prox Lab: Run Optimizer (beside its baseline)' });
      return spec ? startRunWithProgress(services, panels, spec) : undefined;
    }),
    reg('proxlab.rerun', async (arg?: unknown) => {
      const id = runIdOf(arg) ?? (await pickRun(services, 'Run again'));
      if (!id) return;
      const rec = await services.getRun(id);
      if (!rec) throw new Error(`no run '${id}'`);
      const { getExperiment } = await lab.registry();
      const exp = getExperiment(rec.experiment);
      if (!exp) throw new Error(`experiment '${rec.experiment}' is not registered`);
      const config = await configForm(exp, services, rec.config);
      if (!config) return;
      return startRunWithProgress(services, panels, { experiment: rec.experiment, task: rec.task, model: rec.model, config, seed: rec.seed, device: services.device(), threads: services.threads() });
    }),
    reg('proxlab.openRun', async (arg?: unknown) => {
      const id = runIdOf(arg) ?? (await pickRun(services, 'Open Run'));
      if (id) panels.open(id);
    }),
    reg('proxlab.compareRuns', async (arg?: unknown, selected?: unknown[]) => {
      const fromTree = (selected ?? []).map(runIdOf).filter((x): x is string => !!x);
      let ids = fromTree.length > 1 ? fromTree : [];
      if (!ids.length) {
        const first = runIdOf(arg);
        const runs = await services.listRuns();
        const items = runItems(runs).map((i) => ({ ...i, picked: i.run.id === first }));
        const picks = await vscode.window.showQuickPick(items, { title: 'Compare Runs', placeHolder: 'Choose two or more runs', canPickMany: true, matchOnDetail: true });
        ids = (picks ?? []).map((p) => p.run.id);
      }
      if (ids.length < 2) {
        if (ids.length) void vscode.window.showInformationMessage('Prox Lab: choose at least two runs to compare.');
        return;
      }
      panels.compare(ids);
    }),
    reg('proxlab.stopRun', async (arg?: unknown) => {
      const id = runIdOf(arg) ?? (await pickRun(services, 'Stop Run', (r) => r.status === 'running'));
      if (id) await stopRun(services, id);
    }),
    reg('proxlab.deleteRun', async (arg?: unknown) => {
      const id = runIdOf(arg) ?? (await pickRun(services, 'Delete Run'));
      if (!id) return;
      const answer = await vscode.window.showWarningMessage(`Delete run ${id} and its folder (metrics, samples, artifacts)? This cannot be undone.`, { modal: true }, 'Delete');
      if (answer !== 'Delete') return;
      const { RunStore } = await lab.store();
      panels.closeRun(id);
      new RunStore(services.runsDir()).delete(id);
      services.fireRunsChanged();
    }),
    reg('proxlab.exportRun', async (arg?: unknown) => {
      const id = runIdOf(arg) ?? (await pickRun(services, 'Export Run'));
      if (!id) return;
      const what = await vscode.window.showQuickPick(
        [
          { label: 'Metrics as CSV', format: 'csv', samples: false },
          { label: 'Metrics as JSONL', format: 'jsonl', samples: false },
          { label: 'Samples as CSV', format: 'csv', samples: true },
          { label: 'Samples as JSONL', format: 'jsonl', samples: true },
        ],
        { title: `Export ${id}` },
      );
      if (!what) return;
      const base = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(services.runsDir());
      const target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.joinPath(base, `${id}-${what.samples ? 'samples' : 'metrics'}.${what.format}`),
        filters: { [what.format.toUpperCase()]: [what.format] },
      });
      if (!target) return;
      const args = ['export', id, '--format', what.format, '--out', target.fsPath, '--runs-dir', services.runsDir()];
      if (what.samples) args.push('--samples');
      const r = await runCli(services.cliPath(), args);
      if (r.code !== 0) throw new Error(`export failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
      const open = await vscode.window.showInformationMessage(`Prox Lab: exported ${path.basename(target.fsPath)}.`, 'Open');
      if (open) await vscode.commands.executeCommand('vscode.open', target);
    }),
    reg('proxlab.revealRun', async (arg?: unknown) => {
      const id = runIdOf(arg) ?? (await pickRun(services, 'Reveal Run Folder'));
      if (!id) return;
      const runJson = vscode.Uri.file(path.join(await services.runDir(id), 'run.json'));
      // In the workspace: the Explorer; on a desktop: the OS file manager; in a browser
      // (code-server, remote) there is no OS file manager, so open run.json itself.
      if (vscode.workspace.getWorkspaceFolder(runJson)) await vscode.commands.executeCommand('revealInExplorer', runJson);
      else if (vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName) await vscode.commands.executeCommand('revealFileInOS', runJson);
      else await vscode.commands.executeCommand('vscode.open', runJson);
    }),
    reg('proxlab.selectDevice', async () => {
      const current = services.device();
      const pick = await vscode.window.showQuickPick(
        [
          { label: 'cpu', description: 'onnxruntime CPU execution provider (always available)' },
          { label: 'cuda', description: 'onnxruntime CUDA execution provider; falls back to CPU with a message when CUDA libraries are missing' },
        ].map((i) => ({ ...i, picked: i.label === current, detail: i.label === current ? 'current' : undefined })),
        { title: 'Prox Lab: Select Device' },
      );
      if (!pick) return;
      await vscode.workspace.getConfiguration('proxlab').update('device', pick.label, vscode.ConfigurationTarget.Global);
      vscode.window.setStatusBarMessage(`Prox Lab: device ${pick.label}`, 4000);
    }),
    reg('proxlab.showMethods', async () => {
      await vscode.commands.executeCommand('proxlab.methods.focus');
    }),
    reg('proxlab.refresh', async () => refreshAll()),
    reg('proxlab.useModel', async (arg?: { kind?: string; model?: { path: string } }) => {
      const p = arg?.model?.path;
      if (!p) return;
      await vscode.workspace.getConfiguration('proxlab').update('defaultModel', p, vscode.ConfigurationTarget.Global);
      refreshAll();
    }),
    reg('proxlab.runClaimChecks', async () => {
      const { listExperiments } = await lab.registry();
      const withClaims = listExperiments().filter((e) => e.claim);
      if (!withClaims.length) {
        void vscode.window.showInformationMessage('Prox Lab: no experiment declares a claim check yet.');
        return;
      }
      const picks = await vscode.window.showQuickPick(
        withClaims.map((e) => ({ label: e.id, description: e.title, detail: e.claim?.statement, picked: true })),
        { title: 'Run Claim Checks (fast form)', canPickMany: true, matchOnDescription: true },
      );
      if (!picks?.length) return;
      const ids = picks.map((p) => p.label);
      const runsDir = services.runsDir();
      fs.mkdirSync(runsDir, { recursive: true });
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Prox Lab: claim checks', cancellable: true },
        async (progress, token) => {
          let done = 0;
          return runCli(services.cliPath(), ['claims', '--only', ids.join(','), '--runs-dir', runsDir], {
            token,
            onStderrLine: (line) => {
              services.log.info(`[claims] ${line}`);
              const m = /^checking (\S+)/.exec(line);
              if (m) progress.report({ message: `${m[1]} (${++done}/${ids.length})`, increment: 100 / ids.length });
            },
          });
        },
      );
      const { readClaims } = await lab.claims();
      const claims = readClaims(runsDir);
      const records = ids.map((id) => claims[id]).filter((r) => r !== undefined);
      if (!records.length) throw new Error(`claim checks produced no results: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: claimsMarkdown(records) });
      await vscode.window.showTextDocument(doc, { preview: true });
      await vscode.commands.executeCommand('markdown.showPreview', doc.uri);
      refreshAll();
    }),
  ];
}
