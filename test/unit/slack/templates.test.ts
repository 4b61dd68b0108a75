import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATES, loadTemplates, renderTemplate } from '../../../src/adapters/slack/templates.js';
import { initialNoticeMessage } from '../../../src/adapters/slack/render/incident-messages.js';
import type { Incident } from '../../../src/domain/incident/model/incident.js';

const incident = { migration: '007_add_security_tables.ts', service: 'ticket-service' } as Incident;
const snapshot = {
  id: 'pre-rollback-ticket-service-20261121-031207',
  provider: 'pg_dump',
  status: 'available',
  createdAt: '',
} as const;

describe('editable message templates (runbook 003 texts by default)', () => {
  it("the default initial notice is runbook 003's sentence, and no HTML escaping happens", () => {
    expect(initialNoticeMessage(incident, snapshot, { minutes: 7, basis: 'steps' }).text).toBe(
      'Rollback of migration `007_add_security_tables.ts` initiated. Snapshot saved: `pre-rollback-ticket-service-20261121-031207`. ETA: ~7 min.',
    );
    expect(renderTemplate('{{a}}', { a: '<@U0SRE001> & `x`' })).toBe('<@U0SRE001> & `x`');
  });

  it('a file in TEMPLATES_DIR replaces its default; a missing one keeps it; bad syntax and unknown variables are refused at start-up', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mb-templates-'));
    await writeFile(
      path.join(dir, 'initial-notice.md'),
      ':rotating_light: {{service}}: rolling back {{migration}} (snapshot {{snapshot}}, ~{{eta}} min)\n',
    );
    const templates = await loadTemplates(dir);
    expect(templates['status-update']).toBe(DEFAULT_TEMPLATES['status-update']);
    expect(initialNoticeMessage(incident, snapshot, { minutes: 7, basis: 'steps' }, templates).text).toBe(
      ':rotating_light: ticket-service: rolling back 007_add_security_tables.ts (snapshot `pre-rollback-ticket-service-20261121-031207`, ~7 min)',
    );

    await writeFile(path.join(dir, 'resolution.md'), '{{#passed}}done{{/passd}}');
    await expect(loadTemplates(dir)).rejects.toMatchObject({
      code: 'config_templates_invalid',
      message: expect.stringMatching(/resolution\.md: Unclosed section "passed"|resolution\.md: .*passd/),
    });
    await writeFile(path.join(dir, 'resolution.md'), 'done in {{duration}}');
    await expect(loadTemplates(dir)).rejects.toThrow(
      /resolution\.md: unknown variable\(s\) \{\{duration\}\}; resolution may use/,
    );
  });
});
