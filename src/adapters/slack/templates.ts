import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Mustache from 'mustache';
import { AppError } from '../../shared/errors.js';

/**
 * The message texts people edit (runbook 003 "Communication & coordination" as the defaults, in
 * `templates/`), Mustache templates rendered without HTML escaping (Slack mrkdwn is not HTML).
 * Each names the variables it may use; the live facts the bot adds (bullets, checks, buttons)
 * stay outside them.
 */
export const TEMPLATE_VARIABLES = {
  'initial-notice': ['migration', 'snapshot', 'eta', 'service'],
  'status-update': ['what', 'service', 'state', 'facts', 'eta'],
  resolution: [
    'passed',
    'passed_count',
    'passed_checks',
    'failed_count',
    'check_count',
    'failed_checks',
    'migration',
    'service',
  ],
} as const;

export type TemplateName = keyof typeof TEMPLATE_VARIABLES;
export type MessageTemplates = Record<TemplateName, string>;

/** The shipped defaults: `templates/` next to `src/`. */
export const DEFAULT_TEMPLATES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../templates');

/** Every variable name a template uses, sections included. */
function variablesOf(tokens: unknown[]): string[] {
  const out: string[] = [];
  for (const t of tokens as Array<[string, string, number, number, unknown[]?]>) {
    if (['name', '&', '{', '#', '^'].includes(t[0])) out.push(t[1]);
    if (Array.isArray(t[4])) out.push(...variablesOf(t[4]));
  }
  return out;
}

/**
 * Checks one template: Mustache syntax, and only the variables {@link TEMPLATE_VARIABLES} allows.
 * @throws AppError `config_templates_invalid` naming the file and the problem
 */
export function checkTemplate(name: TemplateName, text: string, file: string): string {
  let tokens: unknown[];
  try {
    tokens = Mustache.parse(text);
  } catch (err) {
    throw new AppError({ code: 'config_templates_invalid', message: `${file}: ${(err as Error).message}` });
  }
  const allowed: readonly string[] = TEMPLATE_VARIABLES[name];
  const unknown = variablesOf(tokens).filter((v) => !allowed.includes(v));
  if (unknown.length)
    throw new AppError({
      code: 'config_templates_invalid',
      message: `${file}: unknown variable(s) ${unknown.map((v) => `{{${v}}}`).join(', ')}; ${name} may use ${allowed.map((v) => `{{${v}}}`).join(', ')}`,
    });
  return text.replace(/\n+$/, '');
}

/** The shipped defaults, read once. */
export const DEFAULT_TEMPLATES: MessageTemplates = Object.fromEntries(
  (Object.keys(TEMPLATE_VARIABLES) as TemplateName[]).map((n) => {
    const file = path.join(DEFAULT_TEMPLATES_DIR, `${n}.md`);
    return [n, checkTemplate(n, readFileSync(file, 'utf8'), file)];
  }),
) as MessageTemplates;

/**
 * The templates of `TEMPLATES_DIR`: each `<name>.md` there replaces the default; a missing file
 * keeps the default. Checked at start-up.
 * @throws AppError `config_templates_invalid`
 */
export async function loadTemplates(directory: string | undefined): Promise<MessageTemplates> {
  if (!directory) return DEFAULT_TEMPLATES;
  const out = { ...DEFAULT_TEMPLATES };
  for (const name of Object.keys(TEMPLATE_VARIABLES) as TemplateName[]) {
    const file = path.resolve(directory, `${name}.md`);
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text !== null) out[name] = checkTemplate(name, text, file);
  }
  return out;
}

/** Renders a template with `view` (no HTML escaping). */
export function renderTemplate(template: string, view: Record<string, unknown>): string {
  return Mustache.render(template, view, {}, { escape: (v: unknown) => String(v) });
}
