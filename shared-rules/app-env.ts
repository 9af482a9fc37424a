/**
 * What the Monitor app reads from its environment: mozilla/blurts-server's src/config.ts, whose `config` object
 * reads each variable at start-up (getEnvString throws for one that is unset or empty and has no `fallbackValue`),
 * and its `.env.local.example`, which lists the secrets. Which variables it refuses to start without, which hold
 * secrets, and which this program computes. The spec checks config against this catalogue so a missing or
 * misplaced variable fails the plan, not the container start; a variable new in the app, a secret in particular,
 * is added here before any stack file may set it (docs/release.md, "Env-var and secret changes").
 */
export interface AppVariable {
  /** The app refuses to start without it. */
  required?: boolean;
  /** Its value is a credential: it may only arrive through Secret Manager. */
  secret?: boolean;
  /** Computed by the program from the resources it creates; never typed by hand. */
  derived?: boolean;
  /** A random value the app issues and checks itself, so a preview may generate its own. */
  generatable?: boolean;
}

export const APP_VARIABLES: Readonly<Record<string, AppVariable>> = {
  // Derived per stack kind (appEnvFor): the app keys prod behaviour (the Firefox Accounts issuer, QA toggles,
  // admin pages, Sentry's environment) on "production", so a hand-typed value could run prod as stage.
  APP_ENV: { derived: true },
  NODE_ENV: {},
  SERVER_URL: { required: true, derived: true },
  NEXTAUTH_URL: { derived: true },
  NEXTAUTH_SECRET: { required: true, secret: true, generatable: true },
  SUPPORTED_LOCALES: { required: true },
  ADMINS: {},
  DATABASE_URL: { required: true, secret: true, derived: true },
  PG_HOST: { derived: true },
  // A secret only when it carries a password, which the value check catches.
  REDIS_URL: {},
  DELETE_UNVERIFIED_SUBSCRIBERS_TIMER: {},
  OAUTH_CLIENT_ID: { required: true },
  OAUTH_CLIENT_SECRET: { required: true, secret: true },
  OAUTH_AUTHORIZATION_URI: { required: true },
  OAUTH_TOKEN_URI: { required: true },
  OAUTH_PROFILE_URI: { required: true },
  OAUTH_ACCOUNT_URI: { required: true },
  FXA_SETTINGS_URL: { required: true },
  OAUTH_METRICS_FLOW_URI: {},
  SMTP_URL: { secret: true },
  EMAIL_FROM: { required: true },
  SES_CONFIG_SET: {},
  HIBP_API_ROOT: { required: true },
  HIBP_KANON_API_ROOT: { required: true },
  HIBP_KANON_API_TOKEN: { required: true, secret: true },
  HIBP_NOTIFY_TOKEN: { required: true, secret: true, generatable: true },
  HIBP_API_TOKEN: { secret: true },
  HIBP_THROTTLE_DELAY: { required: true },
  HIBP_THROTTLE_MAX_TRIES: { required: true },
  HIBP_BREACH_DOMAIN_BLOCKLIST: {},
  AWS_ACCESS_KEY_ID: { secret: true },
  AWS_SECRET_ACCESS_KEY: { secret: true },
  AWS_REGION: {},
  S3_BUCKET: { required: true },
  GCP_PUBSUB_PROJECT_ID: { required: true, derived: true },
  GCP_PUBSUB_TOPIC_NAME: { required: true, derived: true },
  GCP_PUBSUB_SUBSCRIPTION_NAME: { derived: true },
  FX_REMOTE_SETTINGS_WRITER_SERVER: {},
  FX_REMOTE_SETTINGS_WRITER_USER: {},
  FX_REMOTE_SETTINGS_WRITER_PASS: { secret: true },
  NIMBUS_UUID_NAMESPACE: { required: true },
  NIMBUS_SIDECAR_URL: { required: true },
  SENTRY_DSN: {},
  OTEL_EXPORTER_OTLP_ENDPOINT: {},
  OTEL_EXPORTER_OTLP_PROTOCOL: {},
  OTEL_SERVICE_NAME: {},
  OTEL_RESOURCE_ATTRIBUTES: {},
};

/** Set by Cloud Run itself; a value in config would be ignored or refused by the platform. */
export const RESERVED_VARIABLES: readonly string[] = [
  "PORT",
  "K_SERVICE",
  "K_REVISION",
  "K_CONFIGURATION",
  "CLOUD_RUN_JOB",
  "CLOUD_RUN_EXECUTION",
  "CLOUD_RUN_TASK_INDEX",
  "CLOUD_RUN_TASK_ATTEMPT",
  "CLOUD_RUN_TASK_COUNT",
];

export const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** Names that say "credential" even when the catalogue does not know them. */
const SECRET_NAME = /(SECRET|TOKEN|PASSWORD|PASSWD|_PASS$|PRIVATE_KEY|API_KEY|ACCESS_KEY|CREDENTIALS?)/;

/** The catalogue decides for the names it knows (OAUTH_TOKEN_URI is a URL); the pattern for all others. */
export function isSecretName(name: string): boolean {
  const known = APP_VARIABLES[name];
  return known ? known.secret === true : SECRET_NAME.test(name);
}

/**
 * Why a plain value looks like a credential, or undefined. Deliberately narrow: a URL with a password, key
 * material, and well-known token shapes. A Sentry DSN (a public key as URL user, no password) passes.
 */
export function secretLookingValue(value: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i.test(value)) return "it is a URL with a password in it";
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) return "it contains a private key";
  if (/\bAKIA[0-9A-Z]{16}\b/.test(value)) return "it looks like an AWS access key id";
  if (/\b(ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{20,}/.test(value)) return "it looks like a GitHub token";
  if (/\bsk_(live|test)_[A-Za-z0-9]{16,}/.test(value)) return "it looks like an API secret key";
  return undefined;
}

export const DERIVED_VARIABLES = Object.entries(APP_VARIABLES)
  .filter(([, v]) => v.derived)
  .map(([name]) => name);

export const REQUIRED_VARIABLES = Object.entries(APP_VARIABLES)
  .filter(([, v]) => v.required)
  .map(([name]) => name);

/**
 * The APP_ENV each stack kind runs with. blurts-server's src/config.ts treats only "production" as prod (its
 * Firefox Accounts issuer, QA toggles, admin pages); "stage" is stage; a preview runs as "cloudrun", the value the
 * app keeps for Cloud Run deploys that are neither (console logging, no prod or stage behaviour).
 */
export function appEnvFor(kind: "preview" | "stage" | "prod"): "cloudrun" | "stage" | "production" {
  return kind === "prod" ? "production" : kind === "stage" ? "stage" : "cloudrun";
}

/**
 * Connections one app process may open, as blurts-server's src/db/knexfile.ts configures knex: the runtime config
 * has `pool: { min: 0, max: 5 }`, except under APP_ENV=cloudrun, where it is replaced by a config with no pool and
 * knex's default (max 10) applies. `monitor:connectionPool` overrides it when the app changes.
 */
export function knexPoolMax(appEnv: string): number {
  return appEnv === "cloudrun" ? 10 : 5;
}
