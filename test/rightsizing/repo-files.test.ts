import { describe, expect, it } from "@jest/globals";
import { isDiscoverable, readRepoFiles } from "../../src/rightsizing/repo-files.ts";

describe("readRepoFiles", () => {
  it("reads the YAML files discovery needs, skipping chart templates, vendored and huge files", async () => {
    const texts: Record<string, string> = {
      "apps/plex/values.yaml": "resources: {}\n",
      "charts/plex/templates/deployment.yaml": "{{ .Values }}\n",
      "terraform/main.tf": "",
      "node_modules/x/values.yaml": "a: 1\n",
      "big.yaml": "x".repeat(50),
    };
    const read: string[] = [];
    const files = await readRepoFiles(
      {
        listFiles: async () => [...Object.keys(texts), "gone.yaml"],
        readFile: async (path) => {
          read.push(path);
          return texts[path];
        },
      },
      { maxChars: 40 },
    );
    expect(files).toEqual([{ path: "apps/plex/values.yaml", text: "resources: {}\n" }]);
    expect(read.sort()).toEqual(["apps/plex/values.yaml", "big.yaml", "gone.yaml"]);
    expect(isDiscoverable("kubernetes/apps/media/plex/app/helmrelease.yml")).toBe(true);
  });
});
