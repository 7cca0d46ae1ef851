import { describe, expect, it } from "@jest/globals";
import { UnreadableFileError } from "../../src/repo/repo-reader.ts";
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

  it("leaves out a file that is no text it can read, as the app does; other errors stop it", async () => {
    const source = (broken: Error) => ({
      listFiles: async () => ["apps/plex/values.yaml", "docs/notes.yaml"],
      readFile: async (path: string) => {
        if (path === "docs/notes.yaml") throw broken;
        return "resources: {}\n";
      },
    });
    const latin1 = new UnreadableFileError("docs/notes.yaml", "docs/notes.yaml is not UTF-8");
    expect(await readRepoFiles(source(latin1))).toEqual([
      { path: "apps/plex/values.yaml", text: "resources: {}\n" },
    ]);
    await expect(readRepoFiles(source(new Error("EIO")))).rejects.toThrow("EIO");
  });
});
