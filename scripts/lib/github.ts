import { REPOSITORY, UsageError, requireEnv, type Env } from "./cli";

/**
 * A minimal GitHub REST client: the scripts need a handful of endpoints, and an injected fetch keeps them
 * testable offline. Errors name the endpoint, GitHub's own message, and the permission most likely missing.
 */

export type Fetch = typeof fetch;

export interface GitHub {
  readonly owner: string;
  readonly repo: string;
  /** `path` is relative to the API root and may use `{owner}`/`{repo}`; query values are encoded here. */
  request<T>(
    method: string,
    path: string,
    options?: { query?: Record<string, string | number>; body?: unknown },
  ): Promise<T>;
  /** Follows `Link: rel="next"` up to `maxPages`, collecting what `pick` takes from each page. */
  paginate<T, Page = T[]>(
    path: string,
    query: Record<string, string | number>,
    pick: (page: Page) => T[],
    maxPages?: number,
  ): Promise<T[]>;
}

export class GitHubError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "GitHubError";
  }
}

const PERMISSION_HINT: Record<number, string> = {
  401: "The token is missing or expired: pass GITHUB_TOKEN: ${{ github.token }} in the step's env.",
  403: "The token lacks a permission this call needs: check the job's `permissions:` block.",
  404: "Not found, or the token may not see it: check GITHUB_REPOSITORY and the job's `permissions:` block.",
};

export function createGitHub(options: { token: string; repository: string; fetch?: Fetch; apiUrl?: string }): GitHub {
  const doFetch = options.fetch ?? fetch;
  const apiUrl = (options.apiUrl ?? "https://api.github.com").replace(/\/+$/, "");
  const [owner, repo] = options.repository.split("/");

  const url = (path: string, query?: Record<string, string | number>) => {
    const expanded = path.replace("{owner}", encodeURIComponent(owner)).replace("{repo}", encodeURIComponent(repo));
    const u = new URL(expanded.startsWith("http") ? expanded : `${apiUrl}${expanded}`);
    for (const [k, v] of Object.entries(query ?? {})) u.searchParams.set(k, String(v));
    return u;
  };

  const send = async (method: string, target: URL, body?: unknown) => {
    const response = await doFetch(target, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${options.token}`,
        "x-github-api-version": "2022-11-28",
        "user-agent": "monitor-delivery-scripts",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) {
      let detail = "";
      try {
        detail = ((await response.json()) as { message?: string }).message ?? "";
      } catch {
        // A body that is not JSON adds nothing the status does not say.
      }
      const endpoint = `${method} ${target.pathname}`;
      throw new GitHubError(
        response.status,
        `GitHub answered ${response.status} to ${endpoint}${detail ? `: ${detail}` : ""}. ${PERMISSION_HINT[response.status] ?? ""}`.trim(),
      );
    }
    return response;
  };

  return {
    owner,
    repo,
    async request<T>(
      method: string,
      path: string,
      opts: { query?: Record<string, string | number>; body?: unknown } = {},
    ) {
      const response = await send(method, url(path, opts.query), opts.body);
      return (response.status === 204 ? undefined : await response.json()) as T;
    },
    async paginate<T, Page = T[]>(
      path: string,
      query: Record<string, string | number>,
      pick: (page: Page) => T[],
      maxPages = 10,
    ) {
      const items: T[] = [];
      let next: URL | undefined = url(path, { per_page: 100, ...query });
      for (let page = 0; next && page < maxPages; page++) {
        const response = await send("GET", next);
        // The API answers with the JSON the caller named as Page.
        items.push(...pick((await response.json()) as Page));
        const link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "");
        next = link ? new URL(link[1]) : undefined;
      }
      return items;
    },
  };
}

/** The client for the repository the job runs in, from GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL. */
export function gitHubFromEnv(env: Env, fetchImpl?: Fetch): GitHub {
  const token = requireEnv(env, "GITHUB_TOKEN", {
    hint: "Pass it in the step's env: GITHUB_TOKEN: ${{ github.token }}.",
  });
  const repository = requireEnv(env, "GITHUB_REPOSITORY", {
    pattern: REPOSITORY,
    expected: "owner/repo",
    hint: "The runner sets it; pass another repository's owner/repo only on purpose.",
  });
  const apiUrl = env.GITHUB_API_URL || undefined;
  if (apiUrl && !/^https:\/\//.test(apiUrl))
    throw new UsageError("GITHUB_API_URL must be an https:// URL. Fix: leave it to the runner, which sets it.");
  return createGitHub({ token, repository, apiUrl, fetch: fetchImpl });
}
