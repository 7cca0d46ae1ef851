/**
 * Inputs that the reliability run found crashing, listed in docs/reliability.md under "Open
 * findings" with their cause. The test leaves exactly these out of its assertion, and fails
 * when one of them stops crashing, so that a fix takes it off this list. Empty once all are
 * fixed. A generated id (`gen-N`) names a change to a fixture file: when the fixtures change,
 * `node bench/reliability.ts --generated 12 --no-write` shows the ids the test now runs into.
 */
export const knownFindings: ReadonlyMap<string, string> = new Map([]);
