// The entry point named by Pulumi.yaml. The CLI takes this module's exports as the stack outputs.
import { buildStack } from "./program";

export = buildStack();
