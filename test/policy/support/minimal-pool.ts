/** The smallest valid pool (6 lines, ending with `max: 6`), as the tests of the loader build on. */
export const MINIMAL_POOL = [
  "pools:",
  "  - name: workers",
  "    target:",
  "      file: terraform/terraform.tfvars",
  "      path: worker_count",
  "    max: 6",
].join("\n");

/** The smallest pool with `extra` lines indented under the list item (from line 7 on). */
export function poolWith(extra: string): string {
  return [MINIMAL_POOL, ...extra.split("\n").map((line) => (line ? `    ${line}` : line))].join(
    "\n",
  );
}
