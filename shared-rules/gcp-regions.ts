/**
 * The regions a stack may run in: where Cloud SQL for PostgreSQL offers the ENTERPRISE edition, whose custom and
 * shared-core tiers every stack's instance uses. Source: "Region availability" of Cloud SQL for PostgreSQL,
 * https://cloud.google.com/sql/docs/postgres/region-availability-overview ("Cloud SQL Enterprise edition region
 * support"), read 2026-12-07. A region added there since is refused here until it is added to this list; a name that
 * is no region at all (`us-central`, `europe-west5`) fails at plan time instead of at the first create.
 */
export const GCP_REGIONS: readonly string[] = [
  "africa-south1",
  "asia-east1",
  "asia-east2",
  "asia-northeast1",
  "asia-northeast2",
  "asia-northeast3",
  "asia-south1",
  "asia-south2",
  "asia-southeast1",
  "asia-southeast2",
  "australia-southeast1",
  "australia-southeast2",
  "europe-central2",
  "europe-north1",
  "europe-north2",
  "europe-southwest1",
  "europe-west1",
  "europe-west2",
  "europe-west3",
  "europe-west4",
  "europe-west6",
  "europe-west8",
  "europe-west9",
  "europe-west10",
  "europe-west12",
  "me-central1",
  "me-central2",
  "me-west1",
  "northamerica-northeast1",
  "northamerica-northeast2",
  "northamerica-south1",
  "southamerica-east1",
  "southamerica-west1",
  "us-central1",
  "us-central2",
  "us-east1",
  "us-east4",
  "us-east5",
  "us-south1",
  "us-west1",
  "us-west2",
  "us-west3",
  "us-west4",
];

/** Why `region` is not one of GCP_REGIONS, naming the regions of the same area; undefined when it is one. */
export function regionProblem(region: string): string | undefined {
  if (GCP_REGIONS.includes(region)) return undefined;
  const area = region.split("-")[0];
  const near = GCP_REGIONS.filter((r) => r.startsWith(`${area}-`));
  return (
    `"${region}" is not a region where Cloud SQL offers the ENTERPRISE edition` +
    (near.length > 0 ? ` (${area}: ${near.join(", ")})` : "")
  );
}
