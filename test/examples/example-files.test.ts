/**
 * The example infra repo's files are what Flux, kustomize and pr-autoscaler expect: every YAML
 * file parses, every object says what it is, every reference between files resolves, and the
 * names the configs use for worker nodes agree with Terraform's and the recorded cluster's.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { parseAllDocuments } from "yaml";
import { parseGuardConfig, selectGuardPool } from "../../src/apply/guard-config.ts";
import { templateVmName } from "../../src/apply/guard-naming.ts";
import { loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { REPO_CONFIG_PATH } from "../../src/policy/repo-config.ts";
import type { RepoFile } from "../../src/rightsizing/repo-files.ts";
import { EXAMPLE_DIR, loadClusterObjects } from "./example-cluster.ts";
import { exampleFiles } from "./example-repo.ts";

type Raw = Record<string, unknown>;

interface Located {
  file: string;
  index: number;
  object: Raw;
}

const record = (value: unknown): Raw =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Raw) : {};

function objectsOf(files: readonly RepoFile[], under: string): Located[] {
  return files
    .filter((file) => file.path.startsWith(under) && /\.ya?ml$/.test(file.path))
    .flatMap((file) =>
      parseAllDocuments(file.text).map((document, index) => ({
        file: file.path,
        index,
        object: record(document.toJS()),
      })),
    );
}

function ofKind(objects: readonly Located[], apiVersion: string, kind: string): Located[] {
  return objects.filter((o) => o.object.apiVersion === apiVersion && o.object.kind === kind);
}

const where = (o: Located) => `${o.file}#${o.index}`;

describe("the example repo's YAML", () => {
  let files: RepoFile[];
  let manifests: Located[];

  beforeAll(async () => {
    files = await exampleFiles();
    manifests = objectsOf(files, "kubernetes/");
  });

  it("parses without errors or warnings, every document of every file", () => {
    const yamlFiles = files.filter((file) => /\.ya?ml$/.test(file.path));
    expect(yamlFiles.length).toBeGreaterThan(30);
    const problems = yamlFiles.flatMap((file) =>
      parseAllDocuments(file.text).flatMap((document) =>
        [...document.errors, ...document.warnings].map((e) => `${file.path}: ${e.message}`),
      ),
    );
    expect(problems).toEqual([]);
  });

  it("gives every manifest and recorded object an apiVersion, a kind and a name", async () => {
    const cluster = (await loadClusterObjects()).map((object, index) => ({
      file: "cluster/",
      index,
      object,
    }));
    const unnamedKinds = new Set(["Kustomization", "Component"]);
    const missing = [...manifests, ...cluster]
      .filter(
        ({ object }) =>
          typeof object.apiVersion !== "string" ||
          typeof object.kind !== "string" ||
          (!unnamedKinds.has(String(object.kind)) &&
            typeof record(object.metadata).name !== "string"),
      )
      .map(where);
    expect(missing).toEqual([]);
    expect(cluster.length).toBeGreaterThan(80);
  });

  it("has app-template HelmReleases with their values and a chart source that exists", () => {
    const releases = ofKind(manifests, "helm.toolkit.fluxcd.io/v2", "HelmRelease");
    expect(releases.map((r) => r.object.metadata && record(r.object.metadata).name).sort()).toEqual(
      [
        "echo-server",
        "home-assistant",
        "plex",
        "prowlarr",
        "radarr",
        "sonarr",
        "tautulli",
        "tdarr",
      ],
    );
    const sources = ofKind(manifests, "source.toolkit.fluxcd.io/v1", "OCIRepository");
    expect(sources.map((s) => [s.file, record(s.object.metadata).name])).toEqual([
      ["kubernetes/components/common/repos/app-template/ocirepository.yaml", "app-template"],
    ]);
    for (const release of releases) {
      const spec = record(release.object.spec);
      expect([where(release), spec.chartRef]).toEqual([
        where(release),
        { kind: "OCIRepository", name: "app-template" },
      ]);
      const controllers = record(record(spec.values).controllers);
      expect([where(release), Object.keys(controllers).length > 0]).toEqual([where(release), true]);
      for (const [id, controller] of Object.entries(controllers)) {
        const app = record(record(record(controller).containers).app);
        expect([where(release), id, typeof record(record(app.resources).requests).memory]).toEqual([
          where(release),
          id,
          "string",
        ]);
      }
    }
  });

  it("has Flux Kustomizations whose paths exist and whose namespace is their folder's", () => {
    const kustomizations = ofKind(manifests, "kustomize.toolkit.fluxcd.io/v1", "Kustomization");
    expect(kustomizations.length).toBe(9);
    for (const ks of kustomizations) {
      const spec = record(ks.object.spec);
      const path = String(spec.path).replace(/^\.\//, "");
      expect([where(ks), existsSync(join(EXAMPLE_DIR, path))]).toEqual([where(ks), true]);
      expect([where(ks), record(spec.sourceRef).kind]).toEqual([where(ks), "GitRepository"]);
      const app = /^kubernetes\/apps\/([^/]+)\/([^/]+)\/ks\.yaml$/.exec(ks.file);
      if (app)
        expect([where(ks), spec.targetNamespace, path]).toEqual([
          where(ks),
          app[1],
          `kubernetes/apps/${app[1]}/${app[2]}/app`,
        ]);
      else expect(ks.file).toBe("kubernetes/flux/cluster/ks.yaml");
    }
  });

  it("has kustomization.yaml files whose resources and components all exist", () => {
    const kustomizeFiles = files.filter((file) => file.path.endsWith("/kustomization.yaml"));
    expect(kustomizeFiles.length).toBe(12);
    for (const file of kustomizeFiles) {
      const [document] = objectsOf([file], "");
      const object = record(document?.object);
      expect([file.path, object.apiVersion, object.kind]).toEqual(
        object.kind === "Component"
          ? [file.path, "kustomize.config.k8s.io/v1alpha1", "Component"]
          : [file.path, "kustomize.config.k8s.io/v1beta1", "Kustomization"],
      );
      const folder = posix.dirname(file.path);
      const entries = [object.resources, object.components].flatMap((list) =>
        Array.isArray(list) ? (list as string[]) : [],
      );
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries)
        expect([file.path, entry, existsSync(join(EXAMPLE_DIR, folder, entry))]).toEqual([
          file.path,
          entry,
          true,
        ]);
    }
  });

  it("lists every app folder in its namespace's kustomization", () => {
    for (const namespace of ["default", "media"]) {
      const file = files.find((f) => f.path === `kubernetes/apps/${namespace}/kustomization.yaml`);
      const resources = record(parseAllDocuments(file?.text ?? "")[0]?.toJS()).resources;
      const apps = files
        .filter((f) => new RegExp(`^kubernetes/apps/${namespace}/[^/]+/ks\\.yaml$`).test(f.path))
        .map((f) => `./${f.path.split("/")[3]}/ks.yaml`);
      expect(resources).toEqual(["./namespace.yaml", ...apps]);
    }
  });
});

describe("worker names across the example's configs", () => {
  it("agree between Terraform, the repo config, the plan guard and the recorded nodes", async () => {
    const configText = await readFile(join(EXAMPLE_DIR, REPO_CONFIG_PATH), "utf8");
    const loaded = loadRepoConfig(configText, REPO_CONFIG_PATH);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    const [pool] = loaded.config.pools;
    const guardFile = join(EXAMPLE_DIR, ".github/pr-autoscaler-guard.yml");
    const guard = selectGuardPool(
      parseGuardConfig(await readFile(guardFile, "utf8"), guardFile),
      pool?.name,
    );
    expect(guard.name).toBe("workers");
    expect(guard.countVariable).toBe(pool?.target.path);
    expect(pool?.target.file).toBe("terraform/terraform.tfvars");

    const variables = await readFile(join(EXAMPLE_DIR, "terraform/variables.tf"), "utf8");
    const prefix = /variable "worker_name_prefix" \{[^}]*default\s+=\s+"([^"]+)"/.exec(variables);
    const nodes = (await loadClusterObjects())
      .filter(
        (o) =>
          o.kind === "Node" &&
          !("node-role.kubernetes.io/control-plane" in record(record(o.metadata).labels)),
      )
      .map((o) => String(record(o.metadata).name));
    for (const [index, node] of nodes.entries()) {
      const fromConfig = (pool?.removal.nameTemplate ?? "").replace(
        "{index}",
        String(index + (pool?.removal.indexBase ?? 0)),
      );
      expect([node, fromConfig, templateVmName(guard.rules, index)]).toEqual([
        `${prefix?.[1]}-${index + 1}`,
        node,
        node,
      ]);
    }
    expect(nodes).toHaveLength(3);
  });
});
