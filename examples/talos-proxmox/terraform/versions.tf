terraform {
  required_version = ">= 1.6.0"

  # State in PostgreSQL, so that CI and people share it and its lock. The connection comes from
  # `terraform init -backend-config=FILE` (in CI, the TERRAFORM_BACKEND_CONFIG secret holds the
  # file's text), e.g. conn_str = "postgres://terraform:PASSWORD@db.home.arpa/terraform_state".
  backend "pg" {}

  required_providers {
    proxmox = {
      source  = "bpg/proxmox"
      version = "~> 0.78"
    }
    talos = {
      source  = "siderolabs/talos"
      version = "~> 0.8.0"
    }
  }
}

provider "proxmox" {
  endpoint  = var.proxmox_endpoint
  api_token = var.proxmox_api_token
  insecure  = var.proxmox_insecure

  # Importing a disk image into a VM goes over SSH to the Proxmox node.
  ssh {
    agent    = true
    username = var.proxmox_ssh_username
  }
}

provider "talos" {}
