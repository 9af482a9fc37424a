/**
 * The program refusing to deploy a stack as it stands (bad config, a stack name it does not know, an image or a
 * platform that is not there), with a message that is the whole report: what, which stack and key, the fix.
 *
 * Pulumi's runner (@pulumi/pulumi/cmd/run/run.js, its handler for the program's unhandled errors) logs a RunError
 * as its message alone. Any other error goes through `util.inspect(err, { colors: true })`, which prints the stack
 * trace, every own field (`{ problems: [...] }`) and colour codes. The SDK knows a RunError by a field, not by its
 * class (RunError.isInstance, so that it works across copies of the SDK): a refusal carries that field, and so
 * reads in `pulumi preview` exactly as in `npm run plan`, without this file importing the SDK (shared rules import only
 * each other; see policies/sync-shared-rules.js).
 */
export class Refusal extends Error {
  /** What RunError.isInstance checks (@pulumi/pulumi/errors.js). */
  readonly __pulumiRunError = true;

  constructor(message: string) {
    super(message);
    const hidden = { enumerable: false, configurable: true };
    Object.defineProperty(this, "name", { ...hidden, value: new.target.name, writable: true });
    // Thrown inside an apply, the error reaches the engine through the SDK's input serialization, which rewrites
    // its message in place to `error serializing property "x": <message>`, once per property it is nested in
    // (@pulumi/pulumi/runtime/rpc.js). The headline stays first: the property path is the SDK's, not the user's.
    Object.defineProperty(this, "message", { ...hidden, get: () => message, set: () => undefined });
    // No trace: a refusal is an answer, not a bug. The runner still inspects every error it reports (for its
    // tracing span), and on Node 20 `util.inspect` with colours spins for half a minute and then throws on the
    // SDK's source-mapped frames (`node_modules/@pulumi/output.ts`, a scope with no package name after it).
    Object.defineProperty(this, "stack", { ...hidden, value: `${new.target.name}: ${message}`, writable: true });
  }
}
