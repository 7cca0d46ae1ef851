output "talosconfig" {
  description = "talosctl client configuration for the cluster."
  value       = data.talos_client_configuration.this.talos_config
  sensitive   = true
}

output "kubeconfig" {
  description = "Admin kubeconfig of the cluster."
  value       = talos_cluster_kubeconfig.this.kubeconfig_raw
  sensitive   = true
}

output "control_plane_ips" {
  description = "Addresses of the control plane nodes."
  value       = local.control_plane_ips
}

output "workers" {
  description = "Worker VMs by Kubernetes node name, with their address and Proxmox VM ID."
  value = {
    for i, vm in proxmox_virtual_environment_vm.worker : vm.name => {
      ip    = local.worker_ips[i]
      vm_id = vm.vm_id
    }
  }
}
