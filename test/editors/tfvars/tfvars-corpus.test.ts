// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold HCL templates, not JavaScript ones
import { describe, expect, it } from "@jest/globals";
import { parsePath } from "../../../src/editors/path.ts";
import { editTfvars, readTfvarsValue } from "../../../src/editors/tfvars/tfvars-editor.ts";
import { parseTfvars } from "../../../src/editors/tfvars/tfvars-parser.ts";
import { resolveTfvarsPath } from "../../../src/editors/tfvars/tfvars-path.ts";
import type { ScalarValue } from "../../../src/editors/value.ts";
import { dataEqual, valueAt, withValueAt } from "../../../src/editors/verify.ts";
import {
  corpusFileNames,
  LITERAL_TOKEN,
  literalsOf,
  readFixture,
  referenceData,
  spanText,
  toCrlf,
} from "./tfvars-fixtures.ts";

/** An edit and the exact bytes it must replace and write. */
interface EditCase {
  path: string;
  before: string;
  value: ScalarValue;
  after: string;
}

const CASES: Record<string, EditCase[]> = {
  "talos-proxmox-dynamic.tfvars": [
    { path: "worker_count", before: "8", value: 9, after: "9" },
    { path: "sizing.worker.memory", before: "8192", value: 16384, after: "16384" },
    { path: "pve_capacity.pve2.vcpu", before: "24", value: 32, after: "32" },
    { path: "proxmox.insecure", before: "true", value: false, after: "false" },
    { path: "proxmox.target_nodes[2]", before: '"pve3"', value: "pve4", after: '"pve4"' },
    {
      path: "talos.iso",
      before: '"local:iso/talos-qemu-agent-metal-amd64.iso"',
      value: "local:iso/t.iso",
      after: '"local:iso/t.iso"',
    },
  ],
  "talos-vms.auto.tfvars": [
    { path: "vms.talos-work-01.cpu_cores", before: "2", value: 4, after: "4" },
    {
      path: "image.extensions[1]",
      before: '"qemu-guest-agent"',
      value: "iscsi-tools",
      after: '"iscsi-tools"',
    },
    {
      path: "cluster.kubernetes_version",
      before: '"v1.34.1"',
      value: "v1.34.2",
      after: '"v1.34.2"',
    },
  ],
  "talos-nodes-commented.auto.tfvars": [
    { path: 'talos_nodes["ctrl-idp-00"].cpu', before: "4", value: 6, after: "6" },
    {
      path: 'talos_nodes["ctrl-idp-00"].network.dhcp',
      before: "false",
      value: true,
      after: "true",
    },
    { path: 'talos_nodes["ctrl-idp-00"].network.vlan_id', before: "20", value: 30, after: "30" },
  ],
  "talos-cluster-config.auto.tfvars": [
    {
      path: "talos_cluster_config.kubernetes_version",
      before: '"v1.33.1"',
      value: "v1.33.2",
      after: '"v1.33.2"',
    },
    {
      path: "talos_cluster_config.cilium.version",
      before: '"v1.17.4"',
      value: "v1.18.0",
      after: '"v1.18.0"',
    },
  ],
  "proxmox-node-list.tfvars": [
    {
      path: "nodes[vm_name=k8s-node-182].memory_dedicated",
      before: "6144",
      value: 8192,
      after: "8192",
    },
    { path: "nodes[0].disk_size", before: "40", value: 60, after: "60" },
    {
      path: "vm_ipv4_gateway",
      before: '"192.168.0.1"',
      value: "192.168.0.254",
      after: '"192.168.0.254"',
    },
  ],
  "k3s-vms-map.tfvars": [
    { path: 'vms["worker-k3s"].disk_size', before: "20", value: 40, after: "40" },
    { path: 'vms["master-k3s"].cores', before: "4", value: 6, after: "6" },
    {
      path: "proxmox_api_url",
      before: '"https://192.168.2.200:8006/api2/json"',
      value: "https://pve:8006/api2/json",
      after: '"https://pve:8006/api2/json"',
    },
  ],
  "k3s-dev-aligned.tfvars": [
    { path: "num_k3s_workers_mem", before: "5120", value: 8192, after: "8192" },
    { path: "tags[1]", before: '"k8s"', value: "k3s", after: '"k3s"' },
    {
      path: "master_ips[0]",
      before: '"192.168.1.21"',
      value: "192.168.1.20",
      after: '"192.168.1.20"',
    },
  ],
  "k3s-credentials.auto.tfvars": [
    { path: "num_k3s_nodes", before: "2", value: 3, after: "3" },
    { path: "pm_tls_insecure", before: "true", value: false, after: "false" },
    {
      path: "worker_ips[0]",
      before: '"192.168.2.91"',
      value: "192.168.2.92",
      after: '"192.168.2.92"',
    },
  ],
  "kubespray-upcloud-colons.tfvars": [
    { path: 'machines["worker-2"].disk_size', before: "250", value: 500, after: "500" },
    {
      path: 'machines["worker-0"].plan',
      before: "null",
      value: "DEV-1xCPU-2GB",
      after: '"DEV-1xCPU-2GB"',
    },
    { path: 'machines["control-plane-0"].mem', before: '"4096"', value: "8192", after: '"8192"' },
    {
      path: "master_allowed_remote_ips[0].end_address",
      before: '"255.255.255.255"',
      value: "10.0.0.255",
      after: '"10.0.0.255"',
    },
    {
      path: "loadbalancer_plan",
      before: '"development"',
      value: "production-small",
      after: '"production-small"',
    },
  ],
  "kubespray-hetzner.tfvars": [
    { path: 'machines["worker-1"].size', before: '"cx21"', value: "cx31", after: '"cx31"' },
    {
      path: "ssh_public_keys[1]",
      before: '"ssh-rsa I-did-not-read-the-docs 2"',
      value: "ssh-ed25519 AAAA",
      after: '"ssh-ed25519 AAAA"',
    },
  ],
  "kubespray-openstack.tfvars": [
    { path: "number_of_k8s_nodes", before: "2", value: 5, after: "5" },
    {
      path: "bastion_allowed_remote_ips[0]",
      before: '"0.0.0.0/0"',
      value: "10.0.0.0/8",
      after: '"10.0.0.0/8"',
    },
  ],
  "talos-aws-worker-groups.tfvars": [
    {
      path: "worker_groups[name=default].ami_id",
      before: '"ami-05c2712eb86ad8449"',
      value: "ami-0abc",
      after: '"ami-0abc"',
    },
    { path: "ccm", before: "false", value: true, after: "true" },
    { path: "kubernetes_version", before: "null", value: "v1.31.0", after: '"v1.31.0"' },
  ],
  "libvirt-chinese-comments.tfvars": [
    { path: "vm_number", before: "3", value: 4, after: "4" },
    { path: "memory", before: "8192", value: 16384, after: "16384" },
    {
      path: "password",
      before:
        '"$6$KywVZaUlE8YmzEoK$XYQ0b/tGjZJXK0KVwQshmnXQMu8NBeMwB/5CMbneKGw601YmdWsTemY0AQqEypwj7FhxPahv3o6J1vtMWNPZo/"',
      value: "$6$new${x}%{y}",
      after: '"$6$new$${x}%%{y}"',
    },
    {
      path: "dns_servers[1]",
      before: '"114.114.114.114"',
      value: "223.5.5.5",
      after: '"223.5.5.5"',
    },
  ],
  "yandex-nested-tuples.tfvars": [
    {
      path: "cidr_blocks[1][0]",
      before: '"10.3.0.0/24"',
      value: "10.5.0.0/24",
      after: '"10.5.0.0/24"',
    },
    { path: "resources.cpu", before: "4", value: 8, after: "8" },
    { path: "nlb_healthcheck.path", before: '"/"', value: "/healthz", after: '"/healthz"' },
  ],
  "handwritten-templates-heredocs.tfvars": [
    { path: "worker_count", before: "3", value: 5, after: "5" },
    { path: "ratio", before: "0.75", value: 0.5, after: "0.5" },
    { path: "big", before: "1.5e3", value: 2e21, after: "2e+21" },
    { path: "negative", before: "-7", value: -9, after: "-9" },
    { path: "spaced_minus", before: "- 4", value: 4, after: "4" },
    { path: "nothing", before: "null", value: true, after: "true" },
    { path: "pools[name=gpu].count", before: "0", value: 1, after: "1" },
    { path: "labels.tier", before: '"backend"', value: "frontend", after: '"frontend"' },
    {
      path: 'labels["node-role"]',
      before: '"worker"',
      value: 'say "hi"\n',
      after: '"say \\"hi\\"\\n"',
    },
    {
      path: "escapes",
      before: '"tab\\there, \\"quoted\\", back\\\\slash, \\u00e9, \\U0001F680"',
      value: "ünï ✓",
      after: '"ünï ✓"',
    },
  ],
  "handwritten-crlf-no-final-newline.tfvars": [
    { path: "worker_count", before: "2", value: 3, after: "3" },
    { path: "worker_pools.gpu.count", before: "0", value: 2, after: "2" },
    { path: "worker_pools.general.count", before: "2", value: 4, after: "4" },
    { path: "region", before: '"eu-central"', value: "eu-west", after: '"eu-west"' },
  ],
};

function checkEdit(text: string, file: string, edit: EditCase): void {
  const path = parsePath(edit.path);
  const target = resolveTfvarsPath(parseTfvars(text, file), path);
  expect(spanText(text, target.span)).toBe(edit.before);

  const edited = editTfvars(text, path, edit.value, file);

  // (a) only the value's bytes changed
  expect(edited).toBe(text.slice(0, target.span.start) + edit.after + text.slice(target.span.end));
  // (b) HashiCorp's parser reads the same data, except PATH which holds VALUE
  expect(dataEqual(referenceData(edited), withValueAt(referenceData(text), path, edit.value))).toBe(
    true,
  );
  // (c) reading back gives the new value
  expect(readTfvarsValue(edited, path, file)).toEqual(edit.value);
}

describe("editTfvars on real-world files", () => {
  it("has cases for every fixture file", () => {
    expect(Object.keys(CASES).sort()).toEqual(corpusFileNames());
  });

  describe.each(Object.entries(CASES))("%s", (file, edits) => {
    const text = readFixture(file);

    it.each(edits.map((edit) => [edit.path, edit] as const))("edits %s", (_, edit) => {
      checkEdit(text, file, edit);
    });

    it.each(edits.map((edit) => [edit.path, edit] as const))(
      "edits %s with CRLF line breaks",
      (_, edit) => {
        checkEdit(toCrlf(text), file, edit);
      },
    );
  });
});

describe("every literal of every fixture file", () => {
  /** A different value for a literal, cycling through the kinds. */
  function replacementFor(value: unknown): ScalarValue {
    if (typeof value === "number") return value + 1;
    if (typeof value === "boolean") return !value;
    if (typeof value === "string") return `${value}-x`;
    return "set";
  }

  /** Up to `count` items spread evenly over the list, first and last included. */
  function spread<T>(items: readonly T[], count: number): T[] {
    if (items.length <= count) return [...items];
    return Array.from(
      { length: count },
      (_, i) => items[Math.round((i * (items.length - 1)) / (count - 1))] as T,
    );
  }

  it.each(corpusFileNames())(
    "%s: literals edit cleanly and read back the same by both parsers",
    (file) => {
      const text = readFixture(file);
      const before = referenceData(text);
      const literals = literalsOf(parseTfvars(text, file));
      expect(literals.length).toBeGreaterThan(0);
      for (const { path, node } of literals) {
        // Our parser reads every literal as HashiCorp's does.
        expect(valueAt(before, path)).toEqual(node.value);
        expect(spanText(text, node.span)).toMatch(LITERAL_TOKEN);
      }
      for (const { path, node } of spread(literals, 8)) {
        const value = replacementFor(node.value);
        const edited = editTfvars(text, path, value, file);
        const written = edited.slice(
          node.span.start,
          edited.length - (text.length - node.span.end),
        );
        expect(edited.slice(0, node.span.start)).toBe(text.slice(0, node.span.start));
        expect(edited.slice(node.span.start + written.length)).toBe(text.slice(node.span.end));
        expect(written).toMatch(LITERAL_TOKEN);
        expect(dataEqual(referenceData(edited), withValueAt(before, path, value))).toBe(true);
        expect(readTfvarsValue(edited, path, file)).toEqual(value);
      }
    },
  );
});

describe("a file that starts with a byte order mark", () => {
  const text = '\uFEFFworker_count = 2 # workers\nregion = "hel1"\n';

  it("keeps the mark when editing", () => {
    expect(editTfvars(text, parsePath("worker_count"), 3, "bom.tfvars")).toBe(
      '\uFEFFworker_count = 3 # workers\nregion = "hel1"\n',
    );
  });

  it("does not count the mark as a column in errors", () => {
    expect(() => editTfvars("\uFEFFa 1\n", parsePath("a"), 3, "bom.tfvars")).toThrow(
      expect.objectContaining({ location: { file: "bom.tfvars", line: 1, column: 3 } }),
    );
  });
});
