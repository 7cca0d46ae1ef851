import { describe, expect, it } from "@jest/globals";
import { parsePath } from "../../../src/editors/path.ts";
import {
  detectYamlStyle,
  listYamlKeys,
  parseYamlFile,
  readYamlValue,
} from "../../../src/editors/yaml/yaml-editor.ts";
import { fixture, inputErrorOf } from "./yaml-test-helpers.ts";

function read(file: string, path: string, document?: number): unknown {
  const options = document === undefined ? {} : { document };
  return readYamlValue(fixture(file), parsePath(path), file, options);
}

describe("readYamlValue", () => {
  it("returns plain data: a mapping, a scalar, a list", () => {
    const file = "flux-helmrelease-app-template-v1-bazarr.yaml";
    expect(read(file, "spec.values.resources")).toEqual({
      requests: { cpu: "10m", memory: "250Mi" },
      limits: { memory: "2000Mi" },
    });
    expect(read(file, "spec.values.podSecurityContext.supplementalGroups")).toEqual([10000]);
    expect(read(file, "spec.values.sidecars.subcleaner.args[3]")).toBe("--wait=21600");
  });

  it("follows aliases and merge keys", () => {
    const anchors = "anchors-and-merge-keys.yaml";
    expect(read(anchors, "controllers.worker.containers.sidecar.resources.requests.cpu")).toBe(
      "100m",
    );
    expect(read(anchors, "controllers.web.containers.metrics.resources.requests.cpu")).toBe("500m");
    expect(read(anchors, "controllers.web.containers.app.resources.limits")).toEqual({
      cpu: "500m",
      memory: "512Mi",
    });
    const prometheus = "flux-helmrelease-kube-prometheus-stack.yaml";
    expect(read(prometheus, "spec.values.kubeEtcd.service.selector.k8s-app")).toBe(
      "kube-controller-manager",
    );
  });

  it("reads Pulumi keys with colons and list items selected by name", () => {
    expect(read("pulumi-stack-kluster.yaml", 'config."kluster-code:staging"')).toBe(false);
    expect(
      read(
        "pulumi-stack-proxmox-microk8s.yaml",
        'config."kubernetes:config".microk8s.master-nodes[name=k8s-dev-master-0].cores',
      ),
    ).toBe(2);
  });

  it("picks the document of a stream the same way edits do", () => {
    const guestbook = "deployment-guestbook-all-in-one.yaml";
    expect(read(guestbook, "spec.template.spec.containers[name=php-redis].image")).toBe(
      "gcr.io/google-samples/gb-frontend:v4",
    );
    expect(read(guestbook, "spec.replicas", 3)).toBe(2);
    expect(inputErrorOf(() => read(guestbook, "spec.replicas")).message).toMatch(
      /could mean document 1 .* or 3 .* or 5/,
    );
  });

  it("reads values as YAML 1.2 does", () => {
    expect(read("edge-cases-values.yaml", "yaml11.enabled")).toBe("yes");
    expect(read("edge-cases-values.yaml", "yaml11.mode")).toBe(755);
  });

  it("says where a missing value would have been, and which keys exist", () => {
    const error = inputErrorOf(() =>
      read("anchors-and-merge-keys.yaml", "controllers.web.containers.nope.resources"),
    );
    expect(error.message).toBe(
      "controllers.web.containers.nope.resources does not exist: controllers.web.containers has no key nope; its keys are: app, metrics",
    );
    expect(error.location).toEqual({ file: "anchors-and-merge-keys.yaml", line: 11, column: 7 });
    expect(error.exitCode).toBe(2);
  });

  it("refuses a file that does not parse, naming line and column", () => {
    const error = inputErrorOf(() => readYamlValue("a: 1\na: 2\n", parsePath("a"), "dup.yaml"));
    expect(error.message).toMatch(/not valid YAML: Map keys must be unique/);
    expect(error.location).toEqual({ file: "dup.yaml", line: 2, column: 1 });
  });
});

describe("listYamlKeys", () => {
  it("lists a mapping's own keys, then merged ones", () => {
    const anchors = fixture("anchors-and-merge-keys.yaml");
    const path = parsePath("controllers.web.containers.app.resources.limits");
    expect(listYamlKeys(anchors, path, "a.yaml")).toEqual(["memory", "cpu"]);
  });

  it("lists containers of an app-template controller", () => {
    const file = "app-template-alias-values-openclaw.yaml";
    const path = parsePath("app-template.controllers.main.containers");
    expect(listYamlKeys(fixture(file), path, file)).toEqual(["chromium", "main"]);
  });

  it("refuses a path that is not a mapping", () => {
    const file = "bitnami-postgresql-values.yaml";
    const error = inputErrorOf(() =>
      listYamlKeys(fixture(file), parsePath("primary.resources.requests.cpu"), file),
    );
    expect(error.message).toBe('primary.resources.requests.cpu is the value "50m", not a mapping');
    expect(error.location?.line).toBe(22);
  });
});

describe("detectYamlStyle", () => {
  it.each([
    ["flux-helmrelease-app-template-v1-bazarr.yaml", 2, true, "\n"],
    ["deployment-guestbook-all-in-one.yaml", 2, false, "\n"],
    ["argocd-application-reloader.yaml", 2, false, "\n"],
    ["four-space-indent-deployment.yaml", 4, true, "\n"],
    ["bitnami-postgresql-values-crlf.yaml", 2, true, "\r\n"],
    ["flux-multi-document-reloader.yaml", 2, true, "\n"],
  ])("%s", (file, indent, sequenceIndented, lineEnding) => {
    expect(detectYamlStyle(parseYamlFile(fixture(file), file))).toEqual({
      indent,
      sequenceIndented,
      lineEnding,
    });
  });
});
