import { GCP_PROJECT_ID } from "./gcp-ids";
import { unanchored } from "./patterns";

/**
 * An Artifact Registry Docker path, `<location>-docker.pkg.dev/<project>/<repository>/<image>`, as its API names the
 * parts. The config refuses any other registry (tags are resolved through this API), the pipeline stack creates
 * the repository, and a preview pushes to it.
 */
export interface ArtifactRegistryPath {
  /** Registry host, e.g. `us-docker.pkg.dev`. */
  host: string;
  location: string;
  project: string;
  repositoryId: string;
  /** Image name inside the repository (may contain `/`). */
  image: string;
}

const AR_PATH = new RegExp(
  `^(([a-z0-9-]+)-docker\\.pkg\\.dev)/(${unanchored(GCP_PROJECT_ID)})/([a-z][a-z0-9-]{0,62})/([a-z0-9][a-z0-9._/-]*)$`,
);

/** `us-docker.pkg.dev/p/r/image` → its parts, or undefined when it is not an Artifact Registry Docker path. */
export function artifactRegistryPath(repository: string): ArtifactRegistryPath | undefined {
  const m = AR_PATH.exec(repository);
  return m ? { host: m[1], location: m[2], project: m[3], repositoryId: m[4], image: m[5] } : undefined;
}
