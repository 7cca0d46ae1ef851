locals {
  prefix_length      = split("/", var.node_cidr)[1]
  control_plane_ips  = [for i in range(var.control_plane_count) : cidrhost(var.node_cidr, var.control_plane_ip_offset + i)]
  worker_ips         = [for i in range(var.worker_count) : cidrhost(var.node_cidr, var.worker_ip_offset + i)]
  cluster_endpoint   = "https://${local.control_plane_ips[0]}:6443"
  talos_image_source = "https://factory.talos.dev/image/${var.talos_schematic_id}/${var.talos_version}/nocloud-amd64.raw.zst"
}

# --- Talos disk image ----------------------------------------------------------------------------

# The nocloud image reads its network settings from the VM's cloud-init drive.
resource "proxmox_virtual_environment_download_file" "talos_image" {
  content_type            = "iso"
  datastore_id            = var.image_datastore
  node_name               = var.proxmox_node
  url                     = local.talos_image_source
  file_name               = "talos-${var.talos_version}-nocloud-amd64.img"
  decompression_algorithm = "zst"
  overwrite               = false
}

# --- Talos secrets and machine configuration -----------------------------------------------------

resource "talos_machine_secrets" "this" {
  talos_version = var.talos_version
}

data "talos_machine_configuration" "control_plane" {
  cluster_name       = var.cluster_name
  cluster_endpoint   = local.cluster_endpoint
  machine_type       = "controlplane"
  machine_secrets    = talos_machine_secrets.this.machine_secrets
  talos_version      = var.talos_version
  kubernetes_version = var.kubernetes_version
}

data "talos_machine_configuration" "worker" {
  cluster_name       = var.cluster_name
  cluster_endpoint   = local.cluster_endpoint
  machine_type       = "worker"
  machine_secrets    = talos_machine_secrets.this.machine_secrets
  talos_version      = var.talos_version
  kubernetes_version = var.kubernetes_version
}

data "talos_client_configuration" "this" {
  cluster_name         = var.cluster_name
  client_configuration = talos_machine_secrets.this.client_configuration
  endpoints            = local.control_plane_ips
  nodes                = concat(local.control_plane_ips, local.worker_ips)
}

# --- Control plane -------------------------------------------------------------------------------

resource "proxmox_virtual_environment_vm" "control_plane" {
  count = var.control_plane_count

  name            = "${var.cluster_name}-cp-${count.index + 1}"
  description     = "Talos control plane node of ${var.cluster_name}. Managed by Terraform."
  tags            = sort(["control-plane", "talos", var.cluster_name])
  node_name       = var.proxmox_node
  vm_id           = var.control_plane_vm_id_base + count.index
  machine         = "q35"
  on_boot         = true
  stop_on_destroy = true
  scsi_hardware   = "virtio-scsi-single"

  agent {
    enabled = true
  }

  cpu {
    cores = var.control_plane_cores
    type  = "x86-64-v2-AES"
  }

  memory {
    dedicated = var.control_plane_memory_mib
  }

  disk {
    datastore_id = var.vm_datastore
    file_id      = proxmox_virtual_environment_download_file.talos_image.id
    file_format  = "raw"
    interface    = "scsi0"
    size         = var.control_plane_disk_gib
    discard      = "on"
    iothread     = true
    ssd          = true
  }

  network_device {
    bridge  = var.network_bridge
    model   = "virtio"
    vlan_id = var.vlan_id
  }

  operating_system {
    type = "l26"
  }

  initialization {
    datastore_id = var.vm_datastore

    ip_config {
      ipv4 {
        address = "${local.control_plane_ips[count.index]}/${local.prefix_length}"
        gateway = var.gateway
      }
    }

    dns {
      servers = var.dns_servers
    }
  }

  lifecycle {
    # Talos upgrades itself in place (talosctl upgrade): a newer image must not re-create VMs.
    ignore_changes = [disk[0].file_id]
  }
}

resource "talos_machine_configuration_apply" "control_plane" {
  count = var.control_plane_count

  client_configuration        = talos_machine_secrets.this.client_configuration
  machine_configuration_input = data.talos_machine_configuration.control_plane.machine_configuration
  node                        = local.control_plane_ips[count.index]
  config_patches = [
    yamlencode({
      machine = {
        network = { hostname = proxmox_virtual_environment_vm.control_plane[count.index].name }
        install = { disk = "/dev/sda" }
      }
    }),
  ]
}

resource "talos_machine_bootstrap" "this" {
  client_configuration = talos_machine_secrets.this.client_configuration
  node                 = local.control_plane_ips[0]

  depends_on = [talos_machine_configuration_apply.control_plane]
}

resource "talos_cluster_kubeconfig" "this" {
  client_configuration = talos_machine_secrets.this.client_configuration
  node                 = local.control_plane_ips[0]

  depends_on = [talos_machine_bootstrap.this]
}

# --- Workers (pr-autoscaler scales these through worker_count) -----------------------------------

resource "proxmox_virtual_environment_vm" "worker" {
  count = var.worker_count

  # The Kubernetes node takes this name too (hostname patch below), which is how the plan guard
  # knows which node to drain before a worker VM is destroyed.
  name            = "${var.worker_name_prefix}-${count.index + 1}"
  description     = "Talos worker node of ${var.cluster_name}. Managed by Terraform; count set by pr-autoscaler."
  tags            = sort(["talos", "worker", var.cluster_name])
  node_name       = var.proxmox_node
  vm_id           = var.worker_vm_id_base + count.index
  machine         = "q35"
  on_boot         = true
  stop_on_destroy = true
  scsi_hardware   = "virtio-scsi-single"

  agent {
    enabled = true
  }

  cpu {
    cores = var.worker_cores
    type  = "x86-64-v2-AES"
  }

  memory {
    dedicated = var.worker_memory_mib
  }

  disk {
    datastore_id = var.vm_datastore
    file_id      = proxmox_virtual_environment_download_file.talos_image.id
    file_format  = "raw"
    interface    = "scsi0"
    size         = var.worker_disk_gib
    discard      = "on"
    iothread     = true
    ssd          = true
  }

  network_device {
    bridge  = var.network_bridge
    model   = "virtio"
    vlan_id = var.vlan_id
  }

  operating_system {
    type = "l26"
  }

  initialization {
    datastore_id = var.vm_datastore

    ip_config {
      ipv4 {
        address = "${local.worker_ips[count.index]}/${local.prefix_length}"
        gateway = var.gateway
      }
    }

    dns {
      servers = var.dns_servers
    }
  }

  lifecycle {
    ignore_changes = [disk[0].file_id]
  }
}

resource "talos_machine_configuration_apply" "worker" {
  count = var.worker_count

  client_configuration        = talos_machine_secrets.this.client_configuration
  machine_configuration_input = data.talos_machine_configuration.worker.machine_configuration
  node                        = local.worker_ips[count.index]
  config_patches = [
    yamlencode({
      machine = {
        network = { hostname = proxmox_virtual_environment_vm.worker[count.index].name }
        install = { disk = "/dev/sda" }
      }
    }),
  ]

  depends_on = [talos_machine_bootstrap.this]
}
