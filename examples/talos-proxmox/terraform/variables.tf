# --- Proxmox -------------------------------------------------------------------------------------

variable "proxmox_endpoint" {
  description = "Proxmox VE API URL, e.g. https://pve.home.arpa:8006/."
  type        = string
}

variable "proxmox_api_token" {
  description = "API token as USER@REALM!TOKENID=SECRET. Set it through TF_VAR_proxmox_api_token, never in a file."
  type        = string
  sensitive   = true
}

variable "proxmox_insecure" {
  description = "Skip TLS verification of the Proxmox API (self-signed certificate)."
  type        = bool
  default     = false
}

variable "proxmox_ssh_username" {
  description = "User for SSH to the Proxmox node (disk image import)."
  type        = string
  default     = "root"
}

variable "proxmox_node" {
  description = "Proxmox node the VMs run on."
  type        = string
}

variable "vm_datastore" {
  description = "Datastore for VM disks and cloud-init drives."
  type        = string
  default     = "local-lvm"
}

variable "image_datastore" {
  description = "Datastore (with the ISO content type) that holds the Talos disk image."
  type        = string
  default     = "local"
}

# --- Network -------------------------------------------------------------------------------------

variable "network_bridge" {
  description = "Linux bridge the VMs attach to."
  type        = string
  default     = "vmbr0"
}

variable "vlan_id" {
  description = "VLAN tag of the VMs' network device, or null for none."
  type        = number
  default     = null
}

variable "node_cidr" {
  description = "Subnet of the Kubernetes nodes; addresses are handed out from it by offset."
  type        = string
}

variable "gateway" {
  description = "Default gateway of the nodes."
  type        = string
}

variable "dns_servers" {
  description = "DNS servers of the nodes."
  type        = list(string)
}

variable "control_plane_ip_offset" {
  description = "Host number of the first control plane node in node_cidr."
  type        = number
  default     = 10
}

variable "worker_ip_offset" {
  description = "Host number of the first worker in node_cidr."
  type        = number
  default     = 20
}

# --- Talos and Kubernetes ------------------------------------------------------------------------

variable "cluster_name" {
  description = "Name of the Talos cluster."
  type        = string
}

variable "talos_version" {
  description = "Talos Linux version of the disk image and of the generated machine configuration."
  type        = string
}

variable "talos_schematic_id" {
  description = "Image Factory schematic (system extensions such as qemu-guest-agent)."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes version the cluster is created with."
  type        = string
}

# --- Control plane -------------------------------------------------------------------------------

variable "control_plane_count" {
  description = "Number of control plane VMs (odd, for etcd quorum)."
  type        = number
  default     = 3

  validation {
    condition     = var.control_plane_count % 2 == 1
    error_message = "control_plane_count must be odd (1, 3 or 5) to keep an etcd quorum."
  }
}

variable "control_plane_vm_id_base" {
  description = "Proxmox VM ID of the first control plane VM; the others follow."
  type        = number
  default     = 8100
}

variable "control_plane_cores" {
  description = "vCPU cores of each control plane VM."
  type        = number
  default     = 2
}

variable "control_plane_memory_mib" {
  description = "Memory of each control plane VM, in MiB."
  type        = number
  default     = 4096
}

variable "control_plane_disk_gib" {
  description = "System disk of each control plane VM, in GiB."
  type        = number
  default     = 32
}

# --- Workers -------------------------------------------------------------------------------------

variable "worker_count" {
  description = "Number of worker VMs. pr-autoscaler proposes changes to this value."
  type        = number

  validation {
    condition     = var.worker_count >= 0 && var.worker_count <= 40 && floor(var.worker_count) == var.worker_count
    error_message = "worker_count must be a whole number from 0 to 40."
  }
}

variable "worker_name_prefix" {
  description = "Worker VM and Kubernetes node names are PREFIX-1, PREFIX-2, …"
  type        = string
  default     = "talos-worker"
}

variable "worker_vm_id_base" {
  description = "Proxmox VM ID of the first worker VM; the others follow."
  type        = number
  default     = 8200
}

variable "worker_cores" {
  description = "vCPU cores of each worker VM."
  type        = number
}

variable "worker_memory_mib" {
  description = "Memory of each worker VM, in MiB."
  type        = number
}

variable "worker_disk_gib" {
  description = "System disk of each worker VM, in GiB."
  type        = number
}
