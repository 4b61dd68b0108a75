// Drill demo service: applied after 003, so rolling back 003 reverts this one first.
export async function up(knex) {
  await knex.raw('ALTER TABLE tickets ADD CONSTRAINT tickets_price_positive CHECK (price_cents > 0)');
}

export async function down(knex) {
  await knex.raw('ALTER TABLE tickets DROP CONSTRAINT tickets_price_positive');
}
