// New Experiment / Run Optimizer: quick picks method → task → model, then a form generated from
// the experiment's schema. The form is a quick pick of "field = value" rows: choosing a row edits
// it (an input box that validates as you type, or a pick for enums and booleans), and the whole
// config is re-validated against the schema before "Start run" is enabled.
import * as vscode from 'vscode';
import type { Experiment, ExperimentKind } from '../core/experiment';
import type { RunSpec } from '../lab/runs/runner';
import { expectedText, formRows, parseFieldInput, valueText } from './form';
import { lab } from './lab';
import { listModels } from './models-tree';
import type { Services } from './services';

const KIND_LABEL: Record<ExperimentKind, string> = { alignment: 'Alignment', rl: 'Reinforcement learning', solver: 'Solvers', optimizer: 'Optimizers' };

interface ExpItem extends vscode.QuickPickItem {
  exp?: Experiment;
}

async function pickExperiment(kinds: ExperimentKind[] | undefined, title: string): Promise<Experiment | undefined> {
  const { listExperiments } = await lab.registry();
  const exps = listExperiments().filter((e) => !kinds || kinds.includes(e.kind));
  if (!exps.length) {
    void vscode.window.showWarningMessage('Prox Lab: no experiments are registered yet.');
    return undefined;
  }
  const items: ExpItem[] = [];
  for (const kind of ['alignment', 'rl', 'solver', 'optimizer'] as ExperimentKind[]) {
    const group = exps.filter((e) => e.kind === kind);
    if (!group.length) continue;
    items.push({ label: KIND_LABEL[kind], kind: vscode.QuickPickItemKind.Separator });
    for (const e of group) items.push({ label: e.id, description: e.title, detail: e.paper, exp: e });
  }
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder: 'Method (type to filter)', matchOnDescription: true, matchOnDetail: true });
  return pick?.exp;
}

async function pickTask(exp: Experiment): Promise<string | undefined> {
  if (exp.tasks.length <= 1) return exp.tasks[0];
  const pick = await vscode.window.showQuickPick(
    exp.tasks.map((t, i) => ({ label: t, description: i === 0 ? 'default' : undefined })),
    { title: `${exp.id}: task`, placeHolder: 'Task' },
  );
  return pick?.label;
}

/** Alignment methods train a language model: pick one (default model first). Others need none. */
async function pickModel(exp: Experiment, services: Services): Promise<string | null | undefined> {
  if (exp.kind !== 'alignment') return null;
  const def = services.defaultModel();
  const models = listModels(services);
  const items: (vscode.QuickPickItem & { value: string | null })[] = [
    { label: '$(package) Experiment default', description: "the method's own model", value: null },
  ];
  if (def) items.unshift({ label: `$(star-full) ${def}`, description: 'proxlab.defaultModel', value: def });
  for (const m of models) if (m.path !== def) items.push({ label: m.name, description: `${m.source}${m.modelType ? ' · ' + m.modelType : ''}`, detail: m.path, value: m.path });
  const pick = await vscode.window.showQuickPick(items, { title: `${exp.id}: model`, placeHolder: 'Model' });
  return pick === undefined ? undefined : pick.value;
}

type FormItem = vscode.QuickPickItem & { action: 'start' | 'field' | 'load' | 'reset'; field?: string };

/** The config form. Resolves with the config to run, or undefined when dismissed. */
export async function configForm(exp: Experiment, services: Services, initial: Record<string, unknown> = {}): Promise<Record<string, unknown> | undefined> {
  const { describeFields, validateConfig, readConfigFile } = await lab.config();
  const fields = describeFields(exp.schema);
  const values: Record<string, unknown> = { ...initial };
  let errors: Record<string, string> = {};
  let general = '';

  const check = () => {
    const r = validateConfig(exp, values);
    errors = {};
    general = '';
    if (!r.ok) {
      for (const e of r.errors) {
        const top = e.field.split('.')[0];
        if (fields.some((f) => f.name === top)) errors[top] = `${e.field}: ${e.message}`;
        else general += `${e.field}: ${e.message}\n`;
      }
    }
    return r;
  };

  for (;;) {
    const result = check();
    const rows = formRows(fields, values, errors);
    const nErr = Object.keys(errors).length + (general ? 1 : 0);
    const items: FormItem[] = [
      {
        label: nErr ? `$(error) Fix ${nErr} field${nErr > 1 ? 's' : ''} to start` : '$(play) Start run',
        description: nErr ? '' : `${exp.id} with ${Object.keys(values).length ? 'these settings' : 'default settings'}`,
        detail: general || undefined,
        action: 'start',
        alwaysShow: true,
      },
      { label: 'Settings', kind: vscode.QuickPickItemKind.Separator, action: 'field' },
      ...rows.map((r): FormItem => ({ label: r.label, description: r.description, detail: r.detail, action: 'field', field: r.field })),
      { label: '', kind: vscode.QuickPickItemKind.Separator, action: 'field' },
      { label: '$(discard) Reset to defaults', action: 'reset' },
    ];
    if (services.trusted) items.push({ label: '$(folder-opened) Load settings from a JSON file…', action: 'load' });
    const pick = await vscode.window.showQuickPick(items, {
      title: `New ${exp.id} run — ${exp.title}`,
      placeHolder: 'Choose a setting to change it, or Start run',
      matchOnDescription: true,
      ignoreFocusOut: true,
    });
    if (!pick) return undefined;
    if (pick.action === 'start') {
      if (result.ok) return values;
      continue;
    }
    if (pick.action === 'reset') {
      for (const k of Object.keys(values)) delete values[k];
      continue;
    }
    if (pick.action === 'load') {
      const uri = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'JSON config': ['json'] }, title: 'Load run settings' });
      if (!uri?.[0]) continue;
      try {
        const loaded = readConfigFile(uri[0].fsPath);
        for (const k of Object.keys(values)) delete values[k];
        Object.assign(values, loaded);
      } catch (e) {
        void vscode.window.showErrorMessage(`Prox Lab: ${(e as Error).message}`);
      }
      continue;
    }
    const f = fields.find((x) => x.name === pick.field);
    if (!f) continue;
    const current = values[f.name] ?? f.default;
    if (f.type === 'enum' || f.type === 'boolean') {
      const options = f.type === 'enum' ? (f.options ?? []) : ['true', 'false'];
      const choice = await vscode.window.showQuickPick(
        options.map((o) => ({ label: o, description: o === valueText(f.default) ? 'default' : undefined, picked: o === valueText(current) })),
        { title: `${f.name}`, placeHolder: f.help || expectedText(f) },
      );
      if (choice) {
        const parsed = parseFieldInput(f, choice.label);
        if (parsed.ok) values[f.name] = parsed.value;
      }
      continue;
    }
    const text = await vscode.window.showInputBox({
      title: `${f.name} (${expectedText(f)})`,
      prompt: f.help || undefined,
      value: valueText(current),
      ignoreFocusOut: true,
      validateInput: (t) => {
        const p = parseFieldInput(f, t);
        if (!p.ok) return { message: p.message, severity: vscode.InputBoxValidationSeverity.Error };
        // whole-config check, so cross-field rules of the schema show inline too
        const r = validateConfig(exp, { ...values, [f.name]: p.value });
        if (!r.ok) {
          const mine = r.errors.find((e) => e.field.split('.')[0] === f.name);
          if (mine) return { message: `${mine.field}: ${mine.message}`, severity: vscode.InputBoxValidationSeverity.Error };
        }
        return undefined;
      },
    });
    if (text === undefined) continue;
    const parsed = parseFieldInput(f, text);
    if (parsed.ok) values[f.name] = parsed.value;
  }
}

/** The whole New Experiment flow; returns the spec to run, or undefined when dismissed. */
export async function newExperimentSpec(
  services: Services,
  opts: { kinds?: ExperimentKind[]; experimentId?: string; title: string },
): Promise<RunSpec | undefined> {
  let exp: Experiment | undefined;
  if (opts.experimentId) {
    const { getExperiment } = await lab.registry();
    exp = getExperiment(opts.experimentId);
    if (!exp) {
      void vscode.window.showErrorMessage(`Prox Lab: unknown experiment '${opts.experimentId}'.`);
      return undefined;
    }
  } else exp = await pickExperiment(opts.kinds, opts.title);
  if (!exp) return undefined;
  const task = await pickTask(exp);
  if (task === undefined && exp.tasks.length) return undefined;
  const model = await pickModel(exp, services);
  if (model === undefined) return undefined;
  // Where the config has a task field (alignment methods), the form starts on the picked task and the run follows the form.
  const taskField = 'task' in exp.schema.shape;
  const config = await configForm(exp, services, taskField && task !== undefined ? { task } : {});
  if (!config) return undefined;
  const runTask = taskField && typeof config.task === 'string' ? config.task : task;
  return { experiment: exp.id, task: runTask, model: model ?? undefined, config, device: services.device(), threads: services.threads() };
}
