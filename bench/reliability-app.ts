/**
 * Input families of the GitHub App's own inputs: webhook payloads (given to the webhook
 * handlers) and comment commands (given to the command parser). They live here, apart from
 * the reader and editor families, and run with them in `npm run bench:reliability` and in
 * test/reliability/. A family is an InputFamily (bench/reliability-case.ts): hand-written
 * cases plus `options.generated` cases drawn with fast-check from `options.seed`, each judged
 * as a clear error, a handled result, a crash or a file written broken.
 */
import type { InputFamily } from "./reliability-case.ts";
import { commandsFamily } from "./reliability-commands.ts";
import { webhooksFamily } from "./reliability-webhooks.ts";

export const appInputFamilies: InputFamily[] = [webhooksFamily, commandsFamily];
