// Drill demo service (knex): tickets sold for events, with a few hundred rows.
export async function up(knex) {
  await knex.raw(`
    CREATE TABLE tickets (
      id bigserial PRIMARY KEY,
      event text NOT NULL,
      status text NOT NULL DEFAULT 'sold',
      price_cents integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO tickets (event, status, price_cents)
    SELECT 'concert-' || (g % 12), (ARRAY['sold','scanned','refunded'])[1 + g % 3], 2500 + (g % 40) * 100
    FROM generate_series(1, 500) AS g;
  `);
}

export async function down(knex) {
  await knex.raw('DROP TABLE tickets');
}
