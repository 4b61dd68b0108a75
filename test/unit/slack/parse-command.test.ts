import { describe, expect, it } from 'vitest';
import { parseMigrateCommand } from '../../../src/surfaces/slack/parse-command.js';
import { saying } from '../../support/words.js';

describe('parseMigrateCommand', () => {
  it('parses rollback with and without --service', () => {
    expect(parseMigrateCommand('rollback 007')).toEqual({ kind: 'rollback', migration: '007' });
    expect(parseMigrateCommand('  rollback 007_add_security_tables --service ticket-service ')).toEqual({
      kind: 'rollback',
      migration: '007_add_security_tables',
      service: 'ticket-service',
    });
  });

  it('parses --break-glass with its reason, refuses a short one, and parses rehearse', () => {
    expect(parseMigrateCommand('rollback 007 --break-glass “approvers unreachable, payments down”')).toEqual({
      kind: 'rollback',
      migration: '007',
      breakGlass: 'approvers unreachable, payments down',
    });
    expect(() => parseMigrateCommand('rollback 007 --break-glass "asleep"')).toThrow(/at least 20 characters/);
    expect(() => parseMigrateCommand('rollback 007 --break-glass')).toThrow(/argument missing/);
    expect(parseMigrateCommand('rehearse --service ticket-service')).toEqual({
      kind: 'rehearse',
      service: 'ticket-service',
    });
  });

  it('reads an em dash (Slack autocorrect) as --', () => {
    expect(parseMigrateCommand('status —service ticket-service')).toEqual({
      kind: 'status',
      service: 'ticket-service',
    });
  });

  it('parses unarchive with its incident, --table and --on-conflict, and refuses anything else', () => {
    expect(
      parseMigrateCommand('unarchive 3F9A12BC --table 3f9a12bc_1_events_search_vector --on-conflict skip'),
    ).toEqual({
      kind: 'unarchive',
      incident: '3f9a12bc',
      table: '3f9a12bc_1_events_search_vector',
      onConflict: 'skip',
    });
    expect(parseMigrateCommand('unarchive 6b1f0c2e-8d4a-4c7e-9f3b-2a5d7e9c1f00 --service events')).toEqual({
      kind: 'unarchive',
      incident: '6b1f0c2e-8d4a-4c7e-9f3b-2a5d7e9c1f00',
      service: 'events',
    });
    expect(() => parseMigrateCommand('unarchive 3f9a')).toThrow(/short id \(8 hex digits\)/);
    expect(() => parseMigrateCommand('unarchive 3f9a12bc --on-conflict replace')).toThrow(/skip or overwrite/);
    expect(() => parseMigrateCommand('unarchive 3f9a12bc --table "x; DROP"')).toThrow(/lowercase letters/);
  });

  it('treats empty text and help as help', () => {
    expect(parseMigrateCommand('')).toEqual({ kind: 'help' });
    expect(parseMigrateCommand('help')).toEqual({ kind: 'help' });
  });

  it('parses restore by snapshot id or by point in time', () => {
    expect(parseMigrateCommand('restore pre-rollback-ticket-service-20261121-031207')).toEqual({
      kind: 'restore',
      snapshotId: 'pre-rollback-ticket-service-20261121-031207',
    });
    expect(parseMigrateCommand('restore --to 2026-11-21T03:00:00Z --service ticket-service')).toEqual({
      kind: 'restore',
      to: new Date('2026-11-21T03:00:00Z'),
      service: 'ticket-service',
    });
  });

  it('parses close with a quoted reason (straight or Slack-curly quotes) and retry', () => {
    expect(parseMigrateCommand('close --reason "fixed by hand, see INC-42"')).toEqual({
      kind: 'close',
      reason: 'fixed by hand, see INC-42',
    });
    expect(parseMigrateCommand('close —reason “wrong migration” —service ticket-service')).toEqual({
      kind: 'close',
      reason: 'wrong migration',
      service: 'ticket-service',
    });
    expect(parseMigrateCommand('close')).toEqual({ kind: 'close' });
    expect(parseMigrateCommand('close --force --reason "hung on a lock"')).toEqual({
      kind: 'close',
      reason: 'hung on a lock',
      force: true,
    });
    expect(parseMigrateCommand('retry --service ticket-service')).toEqual({ kind: 'retry', service: 'ticket-service' });
  });

  it.each([
    ['close --reason ""', /a reason needs a few words/],
    [`close --reason "${'x'.repeat(501)}"`, /at most 500 characters/],
    ['retry 007', /too many arguments/i],
    ['restore', /either a snapshot ID or --to/],
    ['restore snap-1 --to 2026-11-21T03:00:00Z', /either a snapshot ID or --to/],
    ['restore --to yesterday', /ISO-8601/],
    ['restore ../../etc/passwd', /snapshot ID is letters/],
    ['rollback 007; DROP TABLE x', /Too many arguments/],
    ['rollback ../../etc', /version like 007/],
    ['rollback', /Missing required argument 'migration'/],
    ['rollback 007 --service ../x', /service name/],
    ['rollback 007 --servce x', /Unknown option '--servce'/],
    ['drop everything', /Unknown command 'drop'/],
  ])('refuses %j with a clear message', (text, message) => {
    expect(() => parseMigrateCommand(text)).toThrow(
      expect.objectContaining({ code: 'command_invalid', userMessage: saying(message) }),
    );
  });
});
