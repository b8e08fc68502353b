/** The core tables: each record is a JSON document beside the columns it is looked up by. */
export const migration = {
  version: 1,
  name: 'core',
  sql: `
    CREATE TABLE applications (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
    CREATE TABLE instances (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
    CREATE TABLE deployment_groups (
      application TEXT NOT NULL, name TEXT NOT NULL, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL,
      PRIMARY KEY (application, name));
    CREATE TABLE deployment_configs (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
    CREATE TABLE revisions (
      application TEXT NOT NULL, revision_key TEXT NOT NULL, register_time INTEGER NOT NULL, doc TEXT NOT NULL,
      PRIMARY KEY (application, revision_key));
    CREATE TABLE deployments (
      id TEXT PRIMARY KEY, application TEXT NOT NULL, group_name TEXT NOT NULL, status TEXT NOT NULL,
      create_time INTEGER NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL);
    CREATE INDEX deployments_by_group ON deployments (application, group_name, seq);
    CREATE INDEX deployments_by_status ON deployments (status, seq);
    CREATE TABLE deployment_targets (
      deployment_id TEXT NOT NULL, target_id TEXT NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL,
      PRIMARY KEY (deployment_id, target_id));
    CREATE TABLE commands (
      id TEXT PRIMARY KEY, instance TEXT NOT NULL, open INTEGER NOT NULL, doc TEXT NOT NULL);
    CREATE INDEX open_commands ON commands (open, instance);
    CREATE TABLE instance_health (
      group_id TEXT NOT NULL, instance TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (group_id, instance));
  `,
};
