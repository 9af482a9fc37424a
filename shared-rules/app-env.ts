/**
 * What the Monitor app reads from its environment: which variables it refuses to start without, which hold secrets,
 * which this program computes, and the type of each value. Read from mozilla/blurts-server at commit 3b6c890
 * (2026-08-04): src/config.ts reads every variable through getEnvString (an empty value counts as unset),
 * getEnvInt (Number.parseInt, base 10), getEnvEnum (an unknown value silently becomes the fallback) or
 * getEnvKVList; the files named beside a variable are where the app uses its value. The spec checks config against
 * this catalogue, so a missing, misplaced or malformed value fails the plan, not the container start.
 *
 * Adding a variable (or a secret) the app reads starts here: the config refuses any name this file does not list.
 */

/**
 * How the app reads a value (what shared-rules/app-values.ts checks). Secret and derived values are typed too, as
 * the form SRE stores and the program builds, though config never holds them.
 */
export type ValueType =
  /** Any text; YAML must not have made it a number or a boolean. */
  | { readonly type: "text" }
  /**
   * A URL the app parses or fetches, with one of `schemes`. `appends`: a path the app concatenates to it as text,
   * so the value must not end with "/" (nor with that path's first segment).
   */
  | { readonly type: "url"; readonly schemes: readonly string[]; readonly appends?: string }
  /** getEnvInt: parseInt reads "5s" as 5, so only digits. */
  | { readonly type: "integer"; readonly unit: string; readonly min: number }
  /** `value.split(",")`, untrimmed: no spaces, no empty items; each item of `item`'s shape. */
  | { readonly type: "list"; readonly item: "locale" | "email" | "domain" }
  /** One email address, optionally with a display name (`Name <address>`), as nodemailer's `from` takes it. */
  | { readonly type: "email" }
  /** A UUID the `uuid` package accepts (as a v5 namespace). */
  | { readonly type: "uuid" }
  /** getEnvEnum: anything else silently becomes the fallback. */
  | { readonly type: "enum"; readonly values: readonly string[] }
  /** getEnvKVList / parseKVList: `k=v,k=v`; a segment without "=" is silently dropped. */
  | { readonly type: "keyValueList" };

export interface AppVariable {
  readonly value: ValueType;
  /** The app refuses to start without it. */
  readonly required?: boolean;
  /** Its value is a credential: it may only arrive through Secret Manager. */
  readonly secret?: boolean;
  /** Computed by the program from the resources it creates; never typed by hand. */
  readonly derived?: boolean;
  /** A random value the app issues and checks itself, so a preview may generate its own. */
  readonly generatable?: boolean;
  /** The only value prod may run with (set explicitly: the app's own fallback is not it). */
  readonly prod?: string;
}

const text: ValueType = { type: "text" };
const https: ValueType = { type: "url", schemes: ["https:"] };
const web: ValueType = { type: "url", schemes: ["https:", "http:"] };

export const APP_VARIABLES: Readonly<Record<string, AppVariable>> = {
  // Derived per stack kind (appEnvFor): the app keys prod behaviour (the Firefox Accounts issuer, QA toggles,
  // admin pages, Sentry's environment) on "production", so a hand-typed value could run prod as stage.
  APP_ENV: {
    value: { type: "enum", values: ["local", "gcpdev", "heroku", "stage", "production", "cloudrun"] },
    derived: true,
  },
  // getEnvEnum with fallback "development": the cron jobs run under node, not `next start`, so only an explicit
  // value makes them production.
  NODE_ENV: { value: { type: "enum", values: ["production", "development", "test"] }, prod: "production" },
  SERVER_URL: { value: web, required: true, derived: true },
  NEXTAUTH_URL: { value: web, derived: true },
  NEXTAUTH_SECRET: { value: text, required: true, secret: true, generatable: true },
  // src/app/functions/l10n/index.ts: config.supportedLocales.split(",").
  SUPPORTED_LOCALES: { value: { type: "list", item: "locale" }, required: true },
  // src/app/api/utils/auth.tsx isAdmin: config.admins.split(",").includes(email).
  ADMINS: { value: { type: "list", item: "email" } },
  DATABASE_URL: {
    value: { type: "url", schemes: ["postgres:", "postgresql:"] },
    required: true,
    secret: true,
    derived: true,
  },
  PG_HOST: { value: text, derived: true },
  // src/db/redis/configuration.ts runs `new URL(process.env.REDIS_URL || "")` when imported, mock or not; a URL
  // containing "redis.mock" selects the in-memory mock (src/db/redis/client.ts). A secret when it carries a
  // password, which the value check catches.
  REDIS_URL: { value: { type: "url", schemes: ["redis:", "rediss:"] } },
  // src/db/tables/subscribers.ts: Date.now() - timer * 1000.
  DELETE_UNVERIFIED_SUBSCRIBERS_TIMER: { value: { type: "integer", unit: "seconds", min: 1 } },
  OAUTH_CLIENT_ID: { value: text, required: true },
  OAUTH_CLIENT_SECRET: { value: text, required: true, secret: true },
  // src/app/api/utils/auth.tsx (the next-auth provider's authorization, token and userinfo endpoints).
  OAUTH_AUTHORIZATION_URI: { value: https, required: true },
  // src/utils/fxa.ts: new URL(config.oauthTokenUri).origin.
  OAUTH_TOKEN_URI: { value: https, required: true },
  OAUTH_PROFILE_URI: { value: https, required: true },
  // src/utils/fxa.ts and src/utils/jwks.ts: `${config.oauthAccountUri}/jwks`, `/oauth/token`, ...
  OAUTH_ACCOUNT_URI: { value: { type: "url", schemes: ["https:"], appends: "/jwks" }, required: true },
  FXA_SETTINGS_URL: { value: https, required: true },
  OAUTH_METRICS_FLOW_URI: { value: https },
  // Empty logs emails instead of sending them (src/config.ts).
  SMTP_URL: { value: { type: "url", schemes: ["smtp:", "smtps:"] }, secret: true },
  // src/utils/email.ts: nodemailer's `from`.
  EMAIL_FROM: { value: { type: "email" }, required: true },
  SES_CONFIG_SET: { value: text },
  // src/utils/hibp.ts hibpApiFetch: `${config.hibpApiRoot}${path}`, path "/breaches".
  HIBP_API_ROOT: { value: { type: "url", schemes: ["https:"], appends: "/breaches" }, required: true },
  // src/utils/hibp.ts kAnonReq: `${config.hibpKanonApiRoot}${path}`, paths "/range/search/<prefix>" and
  // "/range/subscribe".
  HIBP_KANON_API_ROOT: {
    value: { type: "url", schemes: ["https:"], appends: "/range/search/<prefix>" },
    required: true,
  },
  HIBP_KANON_API_TOKEN: { value: text, required: true, secret: true },
  HIBP_NOTIFY_TOKEN: { value: text, required: true, secret: true, generatable: true },
  HIBP_API_TOKEN: { value: text, secret: true },
  // src/utils/hibp.ts _throttledFetch: setTimeout(resolve, config.hibpThrottleDelay * tryCount).
  HIBP_THROTTLE_DELAY: { value: { type: "integer", unit: "milliseconds", min: 0 }, required: true },
  HIBP_THROTTLE_MAX_TRIES: { value: { type: "integer", unit: "attempts", min: 1 }, required: true },
  // src/app/[locale]/(redesign)/(authenticated)/user/(dashboard)/dashboard/fix/leaked-passwords/[type]/page.tsx:
  // config.hibpBreachDomainBlocklist.split(",").
  HIBP_BREACH_DOMAIN_BLOCKLIST: { value: { type: "list", item: "domain" } },
  AWS_ACCESS_KEY_ID: { value: text, secret: true },
  AWS_SECRET_ACCESS_KEY: { value: text, secret: true },
  AWS_REGION: { value: text },
  S3_BUCKET: { value: text, required: true },
  GCP_PUBSUB_PROJECT_ID: { value: text, required: true, derived: true },
  GCP_PUBSUB_TOPIC_NAME: { value: text, required: true, derived: true },
  GCP_PUBSUB_SUBSCRIPTION_NAME: { value: text, derived: true },
  // src/scripts/cronjobs/updateBreachesInRemoteSettings/updateBreachesInRemoteSettings.ts: the writer's server.
  FX_REMOTE_SETTINGS_WRITER_SERVER: { value: https },
  FX_REMOTE_SETTINGS_WRITER_USER: { value: text },
  FX_REMOTE_SETTINGS_WRITER_PASS: { value: text, secret: true },
  // src/app/functions/server/getExperimentationId.ts: uuidv5(id, namespace), which throws on a namespace the uuid
  // package does not validate.
  NIMBUS_UUID_NAMESPACE: { value: { type: "uuid" }, required: true },
  // src/app/functions/server/getExperiments.ts: new URL(config.nimbusSidecarUrl); infra/spec.ts checks the rest.
  NIMBUS_SIDECAR_URL: { value: web, required: true },
  SENTRY_DSN: { value: https },
  OTEL_EXPORTER_OTLP_ENDPOINT: { value: web },
  OTEL_EXPORTER_OTLP_PROTOCOL: { value: { type: "enum", values: ["http/protobuf"] } },
  OTEL_SERVICE_NAME: { value: text },
  OTEL_RESOURCE_ATTRIBUTES: { value: { type: "keyValueList" } },
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
