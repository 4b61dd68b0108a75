import type { Knex } from 'knex';

/**
 * The bot's own schema migrations, run at start-up ("created by the bot's
 * own schema migrations at start-up"). knex's migrator applies them under its own
 * lock, so several bot processes starting at once apply each migration once.
 * Tracking table: `migrate_bot_schema_migrations`.
 */
export const STATE_MIGRATIONS: Readonly<Record<string, Knex.Migration>> = {
  '0001_incidents_approvals_events': {
    async up(knex) {
      await knex.raw(`
        CREATE TABLE incidents (
          id uuid PRIMARY KEY,
          service text NOT NULL,
          migration text NOT NULL,
          state text NOT NULL CHECK (state IN ('opened','snapshotting','awaiting_approval','rolling_back','resolved','failed','cancelled')),
          requested_by text NOT NULL,
          channel_id text,
          channel_name text,
          plan_message_ts text,
          plan jsonb NOT NULL DEFAULT '[]',
          snapshot jsonb,
          steps jsonb NOT NULL DEFAULT '[]',
          failure jsonb,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now(),
          ended_at timestamptz
        );
        -- One open incident per service: the guard against a second rollback.
        CREATE UNIQUE INDEX incidents_one_open_per_service ON incidents (service)
          WHERE state IN ('opened','snapshotting','awaiting_approval','rolling_back','failed');
        CREATE TABLE approvals (
          incident_id uuid NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
          user_id text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (incident_id, user_id)
        );
        CREATE TABLE incident_events (
          id bigserial PRIMARY KEY,
          incident_id uuid NOT NULL,
          at timestamptz NOT NULL DEFAULT clock_timestamp(),
          type text NOT NULL,
          actor text NOT NULL,
          from_state text,
          to_state text,
          data jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX incident_events_incident ON incident_events (incident_id, id);
        -- The event log is append-only.
        CREATE FUNCTION incident_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'incident_events is append-only'; END $$;
        CREATE TRIGGER incident_events_no_update BEFORE UPDATE OR DELETE ON incident_events
          FOR EACH ROW EXECUTE FUNCTION incident_events_append_only();
      `);
    },
    async down(knex) {
      await knex.raw(
        'DROP TABLE incident_events; DROP FUNCTION incident_events_append_only(); DROP TABLE approvals; DROP TABLE incidents;',
      );
    },
  },
  '0002_restore_incidents': {
    async up(knex) {
      await knex.raw(`
        ALTER TABLE incidents
          ADD COLUMN kind text NOT NULL DEFAULT 'rollback' CHECK (kind IN ('rollback', 'restore')),
          ADD COLUMN restore jsonb;
      `);
    },
    async down(knex) {
      await knex.raw('ALTER TABLE incidents DROP COLUMN restore, DROP COLUMN kind');
    },
  },
  // The outbox (DESIGN.md "One failure path, one outbox"): what people are told is written
  // in the same database as the state change and delivered by its own job, so a Slack
  // outage delays messages and never blocks or fails a rollback. `attempt` counts
  // `/migrate retry` rounds (each gets its own snapshot, plan card and approvals).
  '0003_outbox_and_attempts': {
    async up(knex) {
      await knex.raw(`
        CREATE TABLE notices (
          id bigserial PRIMARY KEY,
          incident_id uuid NOT NULL,
          method text NOT NULL,
          args jsonb NOT NULL,
          dedupe_key text,
          created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
          attempts integer NOT NULL DEFAULT 0,
          last_error text,
          -- After a failed attempt: no delivery before this time (Slack's Retry-After, or backoff).
          not_before timestamptz,
          delivered_at timestamptz,
          abandoned_at timestamptz,
          result jsonb
        );
        CREATE UNIQUE INDEX notices_dedupe ON notices (incident_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
        CREATE INDEX notices_pending ON notices (incident_id, id) WHERE delivered_at IS NULL AND abandoned_at IS NULL;
        ALTER TABLE incidents ADD COLUMN attempt integer NOT NULL DEFAULT 1;
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE notices; ALTER TABLE incidents DROP COLUMN attempt');
    },
  },
  // Approvals bound to the plan: `basis` holds the plan digest (steps, SQL, file checksums,
  // tracking head, snapshot id) each approval records in `plan_digest`; `risk` the plan's
  // classification and figures; `break_glass` who invoked it and why.
  '0004_plan_digest_risk_break_glass': {
    async up(knex) {
      await knex.raw(`
        ALTER TABLE incidents ADD COLUMN basis jsonb, ADD COLUMN risk jsonb, ADD COLUMN break_glass jsonb;
        ALTER TABLE approvals ADD COLUMN plan_digest text;
      `);
    },
    async down(knex) {
      await knex.raw(
        'ALTER TABLE approvals DROP COLUMN plan_digest; ALTER TABLE incidents DROP COLUMN break_glass, DROP COLUMN risk, DROP COLUMN basis',
      );
    },
  },
  // Verification: the down migrations ran but a check failed; ended, shown until acknowledged.
  '0005_resolved_with_warnings': {
    async up(knex) {
      await knex.raw(`
        ALTER TABLE incidents DROP CONSTRAINT incidents_state_check;
        ALTER TABLE incidents ADD CONSTRAINT incidents_state_check
          CHECK (state IN ('opened','snapshotting','awaiting_approval','rolling_back','resolved','resolved_with_warnings','failed','cancelled'));
        CREATE INDEX incidents_unacknowledged ON incidents (service, ended_at) WHERE state = 'resolved_with_warnings';
      `);
    },
    async down(knex) {
      await knex.raw(`
        DROP INDEX incidents_unacknowledged;
        UPDATE incidents SET state = 'resolved' WHERE state = 'resolved_with_warnings';
        ALTER TABLE incidents DROP CONSTRAINT incidents_state_check;
        ALTER TABLE incidents ADD CONSTRAINT incidents_state_check CHECK (state IN ('opened','snapshotting','awaiting_approval','rolling_back','resolved','failed','cancelled'));
      `);
    },
  },
  // The pinned live summary: its ts, and the state its channel topic last showed.
  '0006_live_summary': {
    async up(knex) {
      await knex.raw('ALTER TABLE incidents ADD COLUMN summary_ts text, ADD COLUMN topic_state text');
    },
    async down(knex) {
      await knex.raw('ALTER TABLE incidents DROP COLUMN topic_state, DROP COLUMN summary_ts');
    },
  },
  // The schema a fresh migrate up gives, built before approval and read by the fingerprint check.
  '0007_expected_schemas': {
    async up(knex) {
      await knex.raw(`
        CREATE TABLE expected_schemas (
          key text PRIMARY KEY,
          service text NOT NULL,
          through text[] NOT NULL,
          lines text[] NOT NULL,
          built_ms integer NOT NULL,
          built_at timestamptz NOT NULL
        );
        CREATE INDEX expected_schemas_built_at ON expected_schemas (built_at);
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE expected_schemas');
    },
  },
  // Slack's own bookkeeping (channel, plan card and summary message ts, topic) moves out of the
  // incident into a table the Slack adapter owns; existing incidents keep theirs.
  '0008_incident_slack': {
    async up(knex) {
      await knex.raw(`
        CREATE TABLE incident_slack (
          incident_id uuid PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
          channel_id text,
          channel_name text,
          plan_message_ts text,
          plan_attempt integer,
          summary_ts text,
          topic_state text
        );
        INSERT INTO incident_slack (incident_id, channel_id, channel_name, plan_message_ts, plan_attempt, summary_ts, topic_state)
          SELECT id, channel_id, channel_name, plan_message_ts, attempt, summary_ts, topic_state FROM incidents
          WHERE channel_id IS NOT NULL OR plan_message_ts IS NOT NULL OR summary_ts IS NOT NULL OR topic_state IS NOT NULL;
        ALTER TABLE incidents DROP COLUMN channel_id, DROP COLUMN channel_name, DROP COLUMN plan_message_ts,
          DROP COLUMN summary_ts, DROP COLUMN topic_state;
      `);
    },
    async down(knex) {
      await knex.raw(`
        ALTER TABLE incidents ADD COLUMN channel_id text, ADD COLUMN channel_name text, ADD COLUMN plan_message_ts text,
          ADD COLUMN summary_ts text, ADD COLUMN topic_state text;
        UPDATE incidents i SET channel_id = s.channel_id, channel_name = s.channel_name,
          plan_message_ts = CASE WHEN s.plan_attempt = i.attempt THEN s.plan_message_ts END,
          summary_ts = s.summary_ts, topic_state = s.topic_state
          FROM incident_slack s WHERE s.incident_id = i.id;
        DROP TABLE incident_slack;
      `);
    },
  },
  // Approvers read once when an incident opens (users and user-group members at that time).
  // Additive only: a replica of the previous release keeps working beside one of this release.
  '0009_incident_approvers': {
    async up(knex) {
      await knex.raw('ALTER TABLE incidents ADD COLUMN approvers jsonb');
    },
    async down(knex) {
      await knex.raw('ALTER TABLE incidents DROP COLUMN approvers');
    },
  },
  // The incident process: severity, roles, lifecycle times, private incidents, the incident's
  // ticket; follow-ups; and the outbox of calls to paging and ticket providers, delivered by a
  // queue of its own so a provider that is down never holds back Slack notices.
  // Additive only: a replica of the previous release keeps working beside one of this release.
  '0010_incident_process': {
    async up(knex) {
      await knex.raw(`
        ALTER TABLE incidents
          ADD COLUMN severity text,
          ADD COLUMN roles jsonb,
          ADD COLUMN milestones jsonb NOT NULL DEFAULT '{}',
          ADD COLUMN private boolean NOT NULL DEFAULT false,
          ADD COLUMN ticket jsonb;
        CREATE TABLE followups (
          id bigserial PRIMARY KEY,
          incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
          text text NOT NULL CHECK (length(text) BETWEEN 3 AND 500),
          owner text,
          created_by text NOT NULL,
          slug text,
          state text NOT NULL CHECK (state IN ('proposed','open','exported','export_failed')),
          ticket jsonb,
          error text,
          created_at timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        CREATE UNIQUE INDEX followups_one_proposal ON followups (incident_id, slug) WHERE slug IS NOT NULL;
        CREATE INDEX followups_incident ON followups (incident_id, id);
        CREATE TABLE integration_calls (
          id bigserial PRIMARY KEY,
          incident_id uuid NOT NULL,
          method text NOT NULL,
          args jsonb NOT NULL,
          dedupe_key text,
          created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
          attempts integer NOT NULL DEFAULT 0,
          last_error text,
          not_before timestamptz,
          delivered_at timestamptz,
          abandoned_at timestamptz,
          result jsonb
        );
        CREATE UNIQUE INDEX integration_calls_dedupe ON integration_calls (incident_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
        CREATE INDEX integration_calls_pending ON integration_calls (incident_id, id) WHERE delivered_at IS NULL AND abandoned_at IS NULL;
        CREATE INDEX incidents_created_at ON incidents (created_at);
      `);
    },
    async down(knex) {
      await knex.raw(`
        DROP TABLE integration_calls;
        DROP TABLE followups;
        DROP INDEX incidents_created_at;
        ALTER TABLE incidents DROP COLUMN severity, DROP COLUMN roles, DROP COLUMN milestones,
          DROP COLUMN private, DROP COLUMN ticket;
      `);
    },
  },
  // Every down tested before the incident: `migrate-bot check --record` keeps one row per
  // migration file version (its checksum), so the plan card can say when a down last passed.
  // The plan's schema check (the downs' round trip and the computed plan) is kept on the incident.
  '0011_down_checks': {
    async up(knex) {
      await knex.raw(`
        CREATE TABLE down_checks (
          service text NOT NULL,
          migration text NOT NULL,
          checksum text NOT NULL,
          tool text NOT NULL,
          passed boolean NOT NULL,
          detail jsonb NOT NULL,
          checked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
          PRIMARY KEY (service, migration, checksum)
        );
        ALTER TABLE incidents ADD COLUMN schema_check jsonb;
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE down_checks; ALTER TABLE incidents DROP COLUMN schema_check;');
    },
  },
  // `/migrate unarchive`: a third kind of incident, which writes archived data back (its plan steps carry how).
  '0012_unarchive_incidents': {
    async up(knex) {
      await knex.raw(`
        ALTER TABLE incidents DROP CONSTRAINT incidents_kind_check,
          ADD CONSTRAINT incidents_kind_check CHECK (kind IN ('rollback', 'restore', 'unarchive'));
      `);
    },
    async down(knex) {
      await knex.raw(`
        ALTER TABLE incidents DROP CONSTRAINT incidents_kind_check,
          ADD CONSTRAINT incidents_kind_check CHECK (kind IN ('rollback', 'restore'));
      `);
    },
  },
  // The write counters of a service database when the bot took a snapshot: how much a restore of
  // that snapshot would lose ("writes since the snapshot" on the plan card).
  '0013_snapshot_samples': {
    async up(knex) {
      await knex.raw(`
        CREATE TABLE snapshot_samples (
          service text NOT NULL,
          snapshot_id text NOT NULL,
          taken_at timestamptz NOT NULL,
          tables jsonb NOT NULL,
          PRIMARY KEY (service, snapshot_id)
        );
        CREATE INDEX snapshot_samples_taken ON snapshot_samples (service, taken_at DESC);
      `);
    },
    async down(knex) {
      await knex.raw('DROP TABLE snapshot_samples');
    },
  },
};
