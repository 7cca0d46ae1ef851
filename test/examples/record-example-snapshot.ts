/**
 * Re-records examples/talos-proxmox/cluster/snapshot.json from the YAML objects beside it:
 *
 *   node test/examples/record-example-snapshot.ts
 *
 * Run it after changing any object in that folder; test/examples/example-snapshot.test.ts fails
 * until the committed file matches.
 */
import { writeFileAtomic } from "../../src/util/atomic-write.ts";
import { recordExampleSnapshot, SNAPSHOT_FILE } from "./example-cluster.ts";

await writeFileAtomic(SNAPSHOT_FILE, await recordExampleSnapshot());
process.stdout.write(`wrote ${SNAPSHOT_FILE}\n`);
