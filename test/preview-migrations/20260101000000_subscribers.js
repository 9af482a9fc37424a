// A preview's own migrations, shaped like the app's (src/db/migrations in mozilla/blurts-server): knex's schema
// builder, a table, an index and a raw statement, run by knex's migrator under the preview's own user.
exports.up = async function (knex) {
  await knex.schema.createTable("subscribers", (table) => {
    table.increments("id").primary();
    table.string("primary_email").unique();
    table.timestamps(false, true);
  });
};

exports.down = async function (knex) {
  await knex.schema.dropTable("subscribers");
};
