# Proxmox host and storage. The API token comes from TF_VAR_proxmox_api_token.
proxmox_endpoint = "https://pve.home.arpa:8006/"
proxmox_insecure = true
proxmox_node     = "pve"
vm_datastore     = "local-lvm"
image_datastore  = "local"

# Network: nodes get fixed addresses in node_cidr (control plane from .10, workers from .20).
network_bridge = "vmbr0"
node_cidr      = "192.168.50.0/24"
gateway        = "192.168.50.1"
dns_servers    = ["192.168.50.1", "1.1.1.1"]

# Talos Linux and Kubernetes. The schematic adds the qemu-guest-agent extension.
cluster_name       = "homelab"
talos_version      = "v1.10.5"
talos_schematic_id = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"
kubernetes_version = "1.33.2"

# Control plane: three small VMs.
control_plane_count      = 3
control_plane_cores      = 2
control_plane_memory_mib = 4096 # 4 GiB
control_plane_disk_gib   = 32

# Workers: pr-autoscaler opens pull requests that change worker_count. With 12 GiB each, the
# 64 GiB host holds four of them beside the control plane (host cap in .github/pr-autoscaler.yml).
worker_count      = 3
worker_cores      = 4
worker_memory_mib = 12288 # 12 GiB
worker_disk_gib   = 64
