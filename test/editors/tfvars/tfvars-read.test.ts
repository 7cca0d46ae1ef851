// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold HCL templates, not JavaScript ones
import { describe, expect, it } from "@jest/globals";
import { parsePath } from "../../../src/editors/path.ts";
import { readTfvarsValue } from "../../../src/editors/tfvars/tfvars-editor.ts";
import { readFixture } from "./tfvars-fixtures.ts";

function read(file: string, path: string): unknown {
  return readTfvarsValue(readFixture(file), parsePath(path), file);
}

describe("readTfvarsValue", () => {
  it("reads literals as JS values", () => {
    expect(read("talos-proxmox-dynamic.tfvars", "worker_count")).toBe(8);
    expect(read("talos-proxmox-dynamic.tfvars", "proxmox.insecure")).toBe(true);
    expect(read("talos-aws-worker-groups.tfvars", "kubernetes_version")).toBeNull();
    expect(read("kubespray-upcloud-colons.tfvars", 'machines["worker-0"].cpu')).toBe("2");
    expect(read("libvirt-chinese-comments.tfvars", "password")).toBe(
      "$6$KywVZaUlE8YmzEoK$XYQ0b/tGjZJXK0KVwQshmnXQMu8NBeMwB/5CMbneKGw601YmdWsTemY0AQqEypwj7FhxPahv3o6J1vtMWNPZo/",
    );
  });

  it("decodes escapes and numbers as HCL does", () => {
    const file = "handwritten-templates-heredocs.tfvars";
    expect(read(file, "escapes")).toBe('tab\there, "quoted", back\\slash, é, 🚀');
    expect(read(file, "escaped_tmpl")).toBe("${not_a_template} and %{not_a_directive}");
    expect(read(file, "big")).toBe(1500);
    expect(read(file, "tiny")).toBe(0.0025);
    expect(read(file, "negative")).toBe(-7);
    expect(read(file, "spaced_minus")).toBe(-4);
  });

  it("reads objects as plain objects and tuples as arrays", () => {
    expect(read("talos-proxmox-dynamic.tfvars", "sizing")).toEqual({
      control_plane: { vcpu: 4, memory: 4096, disk: 60 },
      worker: { vcpu: 10, memory: 8192, disk: 80 },
    });
    expect(read("yandex-nested-tuples.tfvars", "cidr_blocks")).toEqual([
      ["10.2.0.0/24"],
      ["10.3.0.0/24"],
      ["10.4.0.0/24"],
    ]);
    expect(read("talos-aws-worker-groups.tfvars", "extra_tags")).toEqual({});
  });

  it("selects list items by index and by [field=value]", () => {
    expect(read("proxmox-node-list.tfvars", "nodes[2].vm_target_node")).toBe("lab-pve2");
    expect(
      read("proxmox-node-list.tfvars", "nodes[vm_name=k8s-node-182].storage_datastore_id"),
    ).toBe("shared-nfs");
    expect(
      read("talos-nodes-commented.auto.tfvars", 'talos_nodes["ctrl-idp-00"].network.gateway'),
    ).toBe("172.16.20.1");
  });

  it("returns expressions as their source text", () => {
    const file = "handwritten-templates-heredocs.tfvars";
    expect(read("talos-vms.auto.tfvars", "vms.talos-ctrl-01.ram_mb")).toEqual({
      expression: "1024 * 4",
    });
    expect(read(file, "greeting")).toEqual({ expression: '"hello ${upper("world")}!"' });
    expect(read(file, "machine_patch")).toEqual({
      expression:
        "<<EOF\nmachine:\n  kubelet:\n    extraArgs:\n      rotate-server-certificates: true\nEOF",
    });
    expect(read(file, "first_pool")).toEqual({ expression: "pools[0].name" });
    expect(read(file, "labels")).toEqual({
      "topology.kubernetes.io/zone": "hel1",
      tier: "backend",
      '(lower("COMPUTED"))': 1,
      "node-role": "worker",
    });
  });

  it("keeps CRLF line breaks inside an expression's source", () => {
    expect(read("handwritten-crlf-no-final-newline.tfvars", "motd")).toEqual({
      expression: "<<EOT\r\nWillkommen – ${worker_count} nodes\r\nEOT",
    });
    expect(read("handwritten-crlf-no-final-newline.tfvars", "region")).toBe("eu-central");
  });
});
