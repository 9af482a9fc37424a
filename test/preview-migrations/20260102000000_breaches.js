exports.up = async function (knex) {
  await knex.schema.createTable("breaches", (table) => {
    table.increments("id").primary();
    table.string("name").notNullable();
    table.integer("subscriber_id").references("subscribers.id");
  });
  await knex.raw("CREATE INDEX breaches_name_idx ON breaches (lower(name))");
};

exports.down = async function (knex) {
  await knex.schema.dropTable("breaches");
};
