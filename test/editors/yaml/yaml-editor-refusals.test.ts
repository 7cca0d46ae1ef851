import { describe, expect, it } from "@jest/globals";
import { parsePath } from "../../../src/editors/path.ts";
import type { ScalarValue } from "../../../src/editors/value.ts";
import { editYaml, readYamlValue } from "../../../src/editors/yaml/yaml-editor.ts";
import { fixture, inputErrorOf } from "./yaml-test-helpers.ts";

interface Refusal {
  file: string;
  line: number;
  message: RegExp;
}

/** Asserts that editing PATH is refused with exit code 2 at FILE:LINE with MESSAGE. */
function expectRefused(
  text: string,
  path: string,
  value: ScalarValue,
  expected: Refusal,
  document?: number,
): void {
  const options = document === undefined ? {} : { document };
  const error = inputErrorOf(() => editYaml(text, parsePath(path), value, expected.file, options));
  expect(error.exitCode).toBe(2);
  expect(error.location?.file).toBe(expected.file);
  expect(error.location?.line).toBe(expected.line);
  expect(error.message).toMatch(expected.message);
}

describe("editYaml refuses aliases and shared anchors", () => {
  const anchors = fixture("anchors-and-merge-keys.yaml");
  const file = "anchors-and-merge-keys.yaml";

  it("refuses a target that is an alias", () => {
    expectRefused(anchors, "controllers.web.containers.app.resources.requests", "x", {
      file,
      line: 16,
      message: /requests: it is an alias \(\*small\)/,
    });
  });

  it("refuses a path that goes through an alias, naming the anchor's line", () => {
    expectRefused(anchors, "controllers.worker.containers.sidecar.resources.requests.cpu", "1", {
      file,
      line: 39,
      message:
        /sidecar\.resources is an alias \(\*worker-resources\) of the value anchored at line 33/,
    });
  });

  it("refuses an anchored mapping used elsewhere, naming the lines that use it", () => {
    expectRefused(anchors, "controllers.worker.containers.app.resources.requests.cpu", "1", {
      file,
      line: 33,
      message: /inside the anchor &worker-resources, which is also used at line 39/,
    });
    expectRefused(anchors, "x-presets.limits.cpu", "1", {
      file,
      line: 6,
      message: /anchor &limits, which is also used at lines 18, 25/,
    });
  });

  it("refuses an anchored scalar used elsewhere (app-template port)", () => {
    const file = "flux-helmrelease-app-template-atuin.yaml";
    expectRefused(
      fixture(file),
      "spec.values.controllers.atuin.containers.app.env.ATUIN_PORT",
      8080,
      {
        file,
        line: 22,
        message: /it is the anchor &port, which is also used at lines 43, 72/,
      },
    );
  });

  it("refuses an anchored mapping that a merge key uses", () => {
    const file = "flux-helmrelease-kube-prometheus-stack.yaml";
    expectRefused(
      fixture(file),
      "spec.values.kubeControllerManager.service.selector.k8s-app",
      "x",
      { file, line: 64, message: /anchor &kubeControllerManager, which is also used at line 68/ },
    );
  });

  it("refuses a value that lies inside a merged anchor", () => {
    const file = "flux-helmrelease-kube-prometheus-stack.yaml";
    expectRefused(fixture(file), "spec.values.kubeEtcd.service.selector.k8s-app", "etcd", {
      file,
      line: 68,
      message: /kubeEtcd\.service comes from the merge key \(<<\) at line 68/,
    });
  });
});

describe("editYaml refuses files that do not parse", () => {
  it.each([
    ["an unclosed flow list", "a: [1, 2\nb: 1\n", 2],
    ["a mapping nested in a compact value", "a: 1\n  b: 2\n", 1],
    ["a duplicate key", "a: 1\nb: 2\na: 3\n", 3],
    ["a tab used for indentation", "a:\n\tb: 1\n", 2],
  ])("%s", (_name, text, line) => {
    expectRefused(text, "a", "x", { file: "values.yaml", line, message: /not valid YAML/ });
  });

  it("refuses a file that only YAML 1.1 rejects, as Helm would", () => {
    expectRefused("y: 1\ntrue: 2\n", "z", "x", {
      file: "values.yaml",
      line: 2,
      message: /not valid YAML when read as YAML 1\.1 \(as Helm reads it\)/,
    });
  });

  it("names the column of the error", () => {
    const error = inputErrorOf(() =>
      editYaml("a:\n  b: [1, 2\nc: 3\n", parsePath("c"), 1, "values.yaml"),
    );
    expect(error.location).toMatchObject({ file: "values.yaml", line: expect.any(Number) });
    expect(error.location?.column).toEqual(expect.any(Number));
  });
});

describe("editYaml refuses paths it cannot create", () => {
  const edge = fixture("edge-cases-values.yaml");
  const file = "edge-cases-values.yaml";

  it("refuses a path through a scalar", () => {
    expectRefused(edge, "plainNumber.cpu", "1", {
      file,
      line: 30,
      message: /plainNumber is the value 0\.5, not a mapping, so it cannot hold cpu/,
    });
  });

  it("refuses a key inside a list", () => {
    expectRefused(edge, "list.cpu", "1", {
      file,
      line: 34,
      message: /list is a flow list, not a mapping/,
    });
  });

  it("refuses a missing list index", () => {
    const argo = "argocd-application-reloader.yaml";
    expectRefused(fixture(argo), "spec.syncPolicy.syncOptions[4]", "x", {
      file: argo,
      line: 23,
      message:
        /syncOptions has 4 items, so \[4\] does not exist; missing list items are never created/,
    });
  });

  it("lists the names that exist when [name=x] matches nothing", () => {
    const manifest = "deployment-loadgenerator.yaml";
    expectRefused(
      fixture(manifest),
      "spec.template.spec.containers[name=web].resources.requests.cpu",
      "1",
      {
        file: manifest,
        line: 55,
        message:
          /no item of spec\.template\.spec\.containers matches \[name=web\] \(name values there: main\)/,
      },
    );
  });

  it("refuses [name=x] that two items match, naming both, rather than take the first", () => {
    const pools = "pools:\n  - name: workers\n    count: 3\n  - name: workers\n    count: 5\n";
    const expected = {
      file: "clusters/pools.yaml",
      line: 4,
      message:
        /^cannot edit pools\[name=workers\]\.count: 2 items of pools match \[name=workers\] \(lines 2, 4\); pick one with \[N\]$/,
    };
    expectRefused(pools, "pools[name=workers].count", 4, expected);
    const read = inputErrorOf(() =>
      readYamlValue(pools, parsePath("pools[name=workers].count"), "clusters/pools.yaml"),
    );
    expect(read.message).toMatch(/^cannot read pools\[name=workers\]\.count: 2 items/);
    expect(readYamlValue(pools, parsePath("pools[1].count"), "clusters/pools.yaml")).toBe(5);
  });

  it("refuses to create a list on the way", () => {
    const guestbook = "deployment-guestbook-all-in-one.yaml";
    expectRefused(
      fixture(guestbook),
      "spec.template.spec.containers[name=master].resources.requests.cpu",
      "1",
      {
        file: guestbook,
        line: 10,
        message:
          /spec\.template does not exist, and .*containers\[name=master\] would be a list item/,
      },
      0,
    );
  });

  it("refuses a path that names a whole mapping", () => {
    const bitnami = "bitnami-postgresql-values.yaml";
    expectRefused(fixture(bitnami), "primary.resources", "1", {
      file: bitnami,
      line: 20,
      message: /primary\.resources: it is a mapping; give the PATH of a single value inside it/,
    });
  });

  it("refuses a value its explicit tag cannot carry", () => {
    expectRefused(edge, "tagged.cpu", 300, {
      file,
      line: 6,
      message: /\(the value is tagged !!str\): tagged\.cpu would read as "300" \(string\)/,
    });
  });

  it("refuses an empty path and a number that is not finite", () => {
    expect(inputErrorOf(() => editYaml(edge, [], 1, file)).message).toMatch(/PATH is empty/);
    expect(
      inputErrorOf(() => editYaml(edge, parsePath("plainNumber"), Number.NaN, file)).message,
    ).toMatch(/not a finite number/);
  });
});

describe("editYaml never rewrites values YAML 1.1 reads differently", () => {
  const edge = fixture("edge-cases-values.yaml");
  const file = "edge-cases-values.yaml";

  it.each([
    [
      "yaml11.mode",
      24,
      /current value 0755 reads as 493 under YAML 1\.1 \(as Helm reads it\) but 755/,
    ],
    ["yaml11.enabled", 25, /current value yes reads as true under YAML 1\.1 .* but "yes"/],
    ["yaml11.switch", 26, /current value on reads as true under YAML 1\.1/],
    ["yaml11.time", 27, /current value 12:30 reads as 750 under YAML 1\.1/],
    ["yaml11.y", 29, /the key "y" reads as true under YAML 1\.1/],
  ])("%s", (path, line, message) => {
    expectRefused(edge, path, "x", { file, line, message });
  });
});

describe("editYaml in multi-document streams", () => {
  const guestbook = fixture("deployment-guestbook-all-in-one.yaml");
  const file = "deployment-guestbook-all-in-one.yaml";

  it("refuses an ambiguous path, naming the candidates and --document", () => {
    expectRefused(guestbook, "spec.replicas", 4, {
      file,
      line: 18,
      message:
        /spec\.replicas could mean document 1 \(line 18, Deployment redis-master\) or 3 \(line 62, Deployment redis-slave\) or 5 \(line 115, Deployment frontend\); choose one \(0 to 5\) with --document N, or with the target.s document in the config/,
    });
  });

  it("refuses when no document holds the path's first key", () => {
    expectRefused(guestbook, "values.resources.requests.cpu", "1", {
      file,
      line: 1,
      message: /none of the 6 documents holds values; choose one \(0 to 5\) with --document N/,
    });
  });

  it("refuses a document number out of range", () => {
    const error = inputErrorOf(() =>
      editYaml(guestbook, parsePath("spec.replicas"), 4, file, { document: 6 }),
    );
    expect(error.message).toMatch(
      /there is no document 6: the file holds 6 documents, numbered 0 to 5/,
    );
    expect(error.location?.file).toBe(file);
  });

  it("uses the requested document", () => {
    const edited = editYaml(guestbook, parsePath("spec.replicas"), 4, file, { document: 3 });
    expect(edited.split("\n")[71]).toBe("  replicas: 4");
    expect(edited.replace("  replicas: 4", "  replicas: 2")).toBe(guestbook);
  });

  it("uses the only document where the whole path exists", () => {
    const path = parsePath("spec.template.spec.containers[name=slave].resources.requests.cpu");
    const edited = editYaml(guestbook, path, "150m", file);
    expect(edited.split("\n")[84]).toBe("            cpu: 150m");
    const multi = fixture("flux-multi-document-reloader.yaml");
    const version = editYaml(multi, parsePath("spec.chart.spec.version"), "v1.0.0", "r.yaml");
    expect(version).toBe(multi.replace("version: v0.0.102", "version: v1.0.0"));
  });

  it("uses the only document holding the first key when the full path exists nowhere", () => {
    const text = "kind: A\nfoo:\n  bar: 1\n---\nkind: B\nother: 1\n";
    const edited = editYaml(text, parsePath("foo.baz.qux"), "v", "two.yaml");
    expect(edited).toBe("kind: A\nfoo:\n  bar: 1\n  baz:\n    qux: v\n---\nkind: B\nother: 1\n");
  });
});
