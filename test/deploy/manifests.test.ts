/**
 * The Kubernetes manifests (deploy/): each object is valid for the Kubernetes API, the app's
 * identity can only read what the cluster reader reads (checked against the requests of a
 * real read), the pod runs locked down, and no credentials are in the build.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { parse } from "yaml";
import { readSnapshot } from "../../src/cluster/read-snapshot.ts";
import { type Homelab, homelabNow, startHomelab } from "../support/kube-homelab.ts";
import {
  buildKustomization,
  type KubeObject,
  modelClass,
  parseObjects,
  projectRoot,
  schemaProblem,
  unknownFields,
} from "./kube-objects.ts";
import { allows, type PolicyRule, type ResourceRequest, resourceRequest } from "./rbac-requests.ts";

const overlay = "deploy/overlays/homelab";
const base = "deploy/base";
const namespace = "pr-autoscaler";
const serviceAccount = "pr-autoscaler";
const leaseName = "pr-autoscaler";
const secretName = "pr-autoscaler-github-app";
const readVerbs = ["get", "list"];

type Raw = Record<string, unknown>;

interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: Raw }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  securityContext?: Raw;
  resources?: { requests?: Raw; limits?: Raw };
  volumeMounts?: { name: string; mountPath: string }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
}

interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Raw;
  containers: Container[];
  volumes?: { name: string; emptyDir?: Raw }[];
}

let objects: KubeObject[];

function one(kind: string, objectsToSearch = objects): KubeObject {
  const found = objectsToSearch.filter((object) => object.kind === kind);
  expect(found.map((object) => object.metadata.name)).toHaveLength(1);
  return found[0] as KubeObject;
}

function deployment(): { spec: { replicas: number; template: { metadata: Raw; spec: PodSpec } } } {
  return one("Deployment") as unknown as ReturnType<typeof deployment>;
}

function container(): Container {
  const containers = deployment().spec.template.spec.containers;
  expect(containers).toHaveLength(1);
  return containers[0] as Container;
}

function rulesOf(object: KubeObject): PolicyRule[] {
  return (object.rules ?? []) as PolicyRule[];
}

function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(stringsIn);
  return [];
}

beforeAll(async () => {
  objects = await buildKustomization(overlay);
});

describe("the kustomize build of deploy/overlays/homelab", () => {
  it("holds the app's objects, all in its namespace", () => {
    expect(objects.map((object) => object.kind).sort()).toEqual([
      "ClusterRole",
      "ClusterRoleBinding",
      "ConfigMap",
      "Deployment",
      "Namespace",
      "PodDisruptionBudget",
      "Role",
      "RoleBinding",
      "Service",
      "ServiceAccount",
    ]);
    const clusterScoped = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding"]);
    for (const object of objects) {
      expect([object.kind, object.metadata.namespace]).toEqual([
        object.kind,
        clusterScoped.has(object.kind) ? undefined : namespace,
      ]);
    }
  });

  it.each([overlay, base])("%s: every object is valid for Kubernetes' API schemas", async (dir) => {
    const built = dir === overlay ? objects : await buildKustomization(dir);
    const problems: string[] = [];
    for (const object of built) {
      const problem = await schemaProblem(object);
      if (problem) problems.push(`${object.kind}/${object.metadata.name}: ${problem}`);
    }
    expect(problems).toEqual([]);
  });

  it("uses no field Kubernetes does not define (a misspelt field would be dropped silently)", () => {
    expect(objects.flatMap(unknownFields)).toEqual([]);
  });

  it("has checks that catch what they look for", async () => {
    const bad = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "x" },
      spec: { replicas: "two", selector: {}, template: {} },
    } as unknown as KubeObject;
    expect(await schemaProblem(bad)).toMatch(/replicas must be integer/);
    await expect(modelClass({ apiVersion: "apps/v1", kind: "Deploymnet" })).rejects.toThrow(
      "unknown kind Deploymnet in apps/v1",
    );
    await expect(modelClass({ apiVersion: "example.com/v1", kind: "Widget" })).rejects.toThrow(
      "no Kubernetes API models for apiVersion example.com/v1",
    );
    const misspelt = structuredClone(one("Deployment")) as unknown as {
      spec: { template: { spec: PodSpec } };
    };
    const first = misspelt.spec.template.spec.containers[0] as Container;
    first.securityContext = { readOnlyRootFileSystem: true };
    expect(unknownFields(misspelt as unknown as KubeObject)).toEqual([
      "Deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem",
    ]);
  });
});

describe("RBAC", () => {
  it("binds the read-only ClusterRole and the Lease Role to the app's ServiceAccount only", () => {
    expect(one("ServiceAccount").metadata.name).toBe(serviceAccount);
    expect(deployment().spec.template.spec.serviceAccountName).toBe(serviceAccount);
    const subject = [{ kind: "ServiceAccount", name: serviceAccount, namespace }];
    const clusterBinding = one("ClusterRoleBinding");
    expect(clusterBinding.subjects).toEqual(subject);
    expect(clusterBinding.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: one("ClusterRole").metadata.name,
    });
    const binding = one("RoleBinding");
    expect(binding.subjects).toEqual(subject);
    expect(binding.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: one("Role").metadata.name,
    });
  });

  it("the ClusterRole only reads: get and list, named groups and resources, no Secrets", () => {
    const rules = rulesOf(one("ClusterRole"));
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.verbs.every((verb) => readVerbs.includes(verb))).toBe(true);
      expect(rule.nonResourceURLs).toBeUndefined();
      for (const name of [...(rule.apiGroups ?? []), ...(rule.resources ?? [])]) {
        expect(name).not.toBe("*");
      }
      expect(rule.resources ?? []).not.toContain("secrets");
      expect(rule.resources?.some((resource) => resource.includes("/"))).toBe(false);
    }
    expect(one("ClusterRole").aggregationRule).toBeUndefined();
  });

  it("the Role holds the leader-election Lease and nothing else", () => {
    const rules = rulesOf(one("Role"));
    for (const rule of rules) {
      expect(rule.apiGroups).toEqual(["coordination.k8s.io"]);
      expect(rule.resources).toEqual(["leases"]);
    }
    const lease = (verb: string, name?: string): ResourceRequest => ({
      group: "coordination.k8s.io",
      resource: "leases",
      verb,
      ...(name ? { name } : {}),
    });
    expect(allows(rules, lease("create"))).toBe(true);
    expect(allows(rules, lease("get", leaseName))).toBe(true);
    expect(allows(rules, lease("update", leaseName))).toBe(true);
    // Reading or renewing is limited to its own Lease; deleting or patching any is not granted.
    expect(allows(rules, lease("get", "kube-controller-manager"))).toBe(false);
    expect(allows(rules, lease("update", "kube-scheduler"))).toBe(false);
    expect(allows(rules, lease("list"))).toBe(false);
    for (const verb of ["delete", "patch", "deletecollection", "watch"]) {
      expect(allows(rules, lease(verb, leaseName))).toBe(false);
    }
    const unnamed = rules.filter((rule) => !rule.resourceNames?.length);
    expect(unnamed.flatMap((rule) => rule.verbs)).toEqual(["create"]);
  });

  it("nothing in the build may write anything but the Lease, nor evict or read Secrets", () => {
    const rules = [...rulesOf(one("ClusterRole")), ...rulesOf(one("Role"))];
    const denied: ResourceRequest[] = [
      { group: "", resource: "pods/eviction", verb: "create" },
      { group: "", resource: "pods", verb: "delete" },
      { group: "", resource: "nodes", verb: "patch" },
      { group: "", resource: "nodes", verb: "delete" },
      { group: "", resource: "secrets", verb: "get" },
      { group: "", resource: "secrets", verb: "list" },
      { group: "", resource: "configmaps", verb: "get" },
      { group: "", resource: "pods", verb: "watch" },
      { group: "autoscaling.k8s.io", resource: "verticalpodautoscalers", verb: "update" },
    ];
    for (const request of denied)
      expect([request, allows(rules, request)]).toEqual([request, false]);
  });

  describe("against the requests of a real cluster read", () => {
    let lab: Homelab;
    let requests: ResourceRequest[];

    beforeAll(async () => {
      lab = await startHomelab();
      // A small page size makes the read continue lists, as it does on a large cluster.
      await readSnapshot({
        kubeconfig: lab.kubeconfig,
        env: {},
        now: () => homelabNow,
        retryDelayMs: 0,
        pageSize: 2,
        limitYoungGeneration: false,
      });
      const mapped = lab.fake.requests.map((request) => ({
        request,
        needs: resourceRequest(request),
      }));
      expect(
        mapped.filter((entry) => entry.needs === undefined).map((e) => e.request.path),
      ).toEqual([]);
      requests = mapped.map((entry) => entry.needs as ResourceRequest);
    });

    afterAll(async () => {
      await lab.close();
    });

    it("reads every kind of object the snapshot holds", () => {
      const kinds = new Set(requests.map((request) => `${request.group}/${request.resource}`));
      expect([...kinds].sort()).toEqual([
        "/namespaces",
        "/nodes",
        "/persistentvolumeclaims",
        "/persistentvolumes",
        "/pods",
        "apps/daemonsets",
        "autoscaling.k8s.io/verticalpodautoscalers",
        "autoscaling/horizontalpodautoscalers",
        "metrics.k8s.io/nodes",
        "metrics.k8s.io/pods",
        "node.k8s.io/runtimeclasses",
        "policy/poddisruptionbudgets",
        "storage.k8s.io/csinodes",
        "storage.k8s.io/storageclasses",
      ]);
    });

    it("the ClusterRole allows each of them", () => {
      const rules = rulesOf(one("ClusterRole"));
      const refused = requests.filter((request) => !allows(rules, request));
      expect(refused).toEqual([]);
    });

    it("the ClusterRole grants no resource the read does not use", () => {
      const used = new Set(requests.map((request) => `${request.group}/${request.resource}`));
      const granted = rulesOf(one("ClusterRole")).flatMap((rule) =>
        (rule.apiGroups ?? []).flatMap((group) =>
          (rule.resources ?? []).map((resource) => `${group}/${resource}`),
        ),
      );
      expect(granted.filter((resource) => !used.has(resource))).toEqual([]);
    });
  });
});

describe("the Deployment", () => {
  it("runs two replicas (the Lease decides which runs the loop) and the server command", () => {
    expect(deployment().spec.replicas).toBe(2);
    expect(container().args).toEqual(["serve"]);
    expect(container().image).toBe("registry.home.arpa/pr-autoscaler:0.1.0");
  });

  it("runs as a non-root user with a read-only root filesystem and no privileges", () => {
    const pod = deployment().spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container().securityContext).toEqual({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(one("Namespace").metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
    });
  });

  it("gives the app a writable /tmp and nothing else writable", () => {
    const pod = deployment().spec.template.spec;
    expect(container().volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
    expect(pod.volumes).toEqual([{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }]);
    expect(container().env).toContainEqual({ name: "TMPDIR", value: "/tmp" });
  });

  it("probes /healthz (liveness, startup) and /readyz (readiness) on the app's port 3000", () => {
    const { livenessProbe, readinessProbe, startupProbe, ports } = container();
    expect(livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(startupProbe?.httpGet?.path).toBe("/healthz");
    expect(readinessProbe?.httpGet?.path).toBe("/readyz");
    for (const probe of [livenessProbe, readinessProbe, startupProbe]) {
      const port = probe?.httpGet?.port;
      const resolved = ports?.find((p) => p.name === port || p.containerPort === port);
      expect(resolved?.containerPort).toBe(3000);
    }
    expect(container().env).toContainEqual({ name: "PORT", value: "3000" });
  });

  it("requests and limits cpu and memory", () => {
    const { resources } = container();
    expect(Object.keys(resources?.requests ?? {}).sort()).toEqual(["cpu", "memory"]);
    expect(Object.keys(resources?.limits ?? {}).sort()).toEqual(["cpu", "memory"]);
  });

  it("reads the GitHub App's credentials from the Secret, the webhook secret and chat URL optionally", () => {
    const fromSecret = (container().env ?? []).filter((entry) => entry.valueFrom?.secretKeyRef);
    expect(fromSecret).toEqual([
      { name: "APP_ID", valueFrom: { secretKeyRef: { name: secretName, key: "APP_ID" } } },
      {
        name: "PRIVATE_KEY",
        valueFrom: { secretKeyRef: { name: secretName, key: "PRIVATE_KEY" } },
      },
      {
        name: "WEBHOOK_SECRET",
        valueFrom: { secretKeyRef: { name: secretName, key: "WEBHOOK_SECRET", optional: true } },
      },
      {
        name: "NOTIFY_WEBHOOK_URL",
        valueFrom: {
          secretKeyRef: { name: secretName, key: "NOTIFY_WEBHOOK_URL", optional: true },
        },
      },
    ]);
    const configMap = one("ConfigMap");
    expect(container().envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);
  });

  it("has a Service and a PodDisruptionBudget that select its pods", () => {
    const labels = deployment().spec.template.metadata.labels as Record<string, string>;
    const service = one("Service") as unknown as {
      spec: { selector: Record<string, string>; ports: { targetPort: string }[] };
    };
    expect(labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports.map((port) => port.targetPort)).toEqual(["http"]);
    const pdb = one("PodDisruptionBudget") as unknown as {
      spec: {
        minAvailable: number;
        selector: { matchLabels: Record<string, string> };
        unhealthyPodEvictionPolicy: string;
      };
    };
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    // One replica may move at a time; a budget of 2 would block every node drain.
    expect(pdb.spec.minAvailable).toBeLessThan(deployment().spec.replicas);
    // With both replicas unready (GitHub unreachable), the default policy would refuse every
    // eviction and block the drain.
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe("AlwaysAllow");
  });
});

describe("credentials", () => {
  it("no Secret is in the build, and no object carries key- or token-like data", () => {
    expect(objects.filter((object) => object.kind === "Secret")).toEqual([]);
    const suspicious = /-----BEGIN|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_|PRIVATE_KEY=|SECRET=/;
    expect(stringsIn(objects).filter((text) => suspicious.test(text))).toEqual([]);
    const data = one("ConfigMap").data as Record<string, string>;
    expect(Object.keys(data).filter((key) => /KEY|SECRET|TOKEN|PASSWORD/.test(key))).toEqual([]);
  });

  it("ships a Secret template with placeholders for exactly the keys the Deployment reads", async () => {
    const file = join(projectRoot, base, "secret.example.yaml");
    const [secret, ...rest] = parseObjects(await readFile(file, "utf8"), file);
    expect(rest).toEqual([]);
    expect(secret?.metadata).toEqual({ name: secretName, namespace });
    const stringData = secret?.stringData as Record<string, string>;
    expect(Object.keys(stringData).sort()).toEqual([
      "APP_ID",
      "NOTIFY_WEBHOOK_URL",
      "PRIVATE_KEY",
      "WEBHOOK_SECRET",
    ]);
    for (const value of Object.values(stringData)) expect(value.trim()).toMatch(/^<[^<>]+>$/);
    expect(await schemaProblem(secret as KubeObject)).toBeUndefined();
  });

  it("the template is in no kustomization, so `kubectl apply -k` never applies it", async () => {
    for (const dir of [base, overlay]) {
      const text = await readFile(join(projectRoot, dir, "kustomization.yaml"), "utf8");
      const kustomization = parse(text) as Record<string, unknown>;
      expect(stringsIn(kustomization).filter((value) => value.includes("secret"))).toEqual([]);
      expect(kustomization.secretGenerator).toBeUndefined();
    }
  });
});
