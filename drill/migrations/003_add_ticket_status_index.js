// Drill demo service: the migration the drill rolls back (`/migrate rollback 003`).
export async function up(knex) {
  await knex.raw('CREATE INDEX tickets_status_idx ON tickets (status)');
}

export async function down(knex) {
  await knex.raw('DROP INDEX tickets_status_idx');
}
