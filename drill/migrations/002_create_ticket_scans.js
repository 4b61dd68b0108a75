// Drill demo service: gate scans of tickets.
export async function up(knex) {
  await knex.raw(`
    CREATE TABLE ticket_scans (
      id bigserial PRIMARY KEY,
      ticket_id bigint NOT NULL REFERENCES tickets(id),
      gate text NOT NULL,
      scanned_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO ticket_scans (ticket_id, gate)
    SELECT id, 'gate-' || (id % 4) FROM tickets WHERE status = 'scanned';
  `);
}

export async function down(knex) {
  await knex.raw('DROP TABLE ticket_scans');
}
