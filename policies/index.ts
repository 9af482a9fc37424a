// The pack's entry, run by the Pulumi CLI for `pulumi preview --policy-pack policies`. Constructing a PolicyPack
// starts the analyzer's gRPC server (and may exit the process), so nothing else imports this file: the rules live
// in rules/ (one file per area), where the tests and the offline engine reach them.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("monitor", { policies });
