/**
 * The shapes of GCP's own identifiers, as its APIs take them. The config refuses any other project or region, and
 * the rules that read a path made of them (shared-rules/artifact-registry.ts) use these parts.
 */

/** A project id: 6 to 30 lowercase letters, digits and hyphens, a letter first, no hyphen last. */
export const GCP_PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** A region such as `us-central1` (not a zone, not a multi-region). */
export const GCP_REGION = /^[a-z]+-[a-z]+[0-9]+$/;
