/**
 * Generates a large, realistic-looking cluster for the observe benchmark: objects shaped like
 * what a kube-apiserver returns (managedFields, default tolerations, probes, statuses), each
 * serialised once to JSON text so that serving them costs nothing but copying.
 */

export interface ClusterSize {
  nodes: number;
  pods: number;
  vpas: number;
  pdbs: number;
  hpas: number;
  namespaces: number;
}

export interface GeneratedObject {
  namespace?: string;
  name: string;
  json: string;
}

export interface GeneratedCluster {
  nodes: GeneratedObject[];
  pods: GeneratedObject[];
  vpas: GeneratedObject[];
  pdbs: GeneratedObject[];
  hpas: GeneratedObject[];
  nodemetrics: GeneratedObject[];
  podmetrics: GeneratedObject[];
}

const baseTime = Date.parse("2025-01-10T08:00:00Z");

function time(offsetSeconds: number): string {
  return new Date(baseTime + offsetSeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

/** A deterministic pseudo-random sequence, so every run serves the same bytes. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function uid(rand: () => number): string {
  const hex = () =>
    Math.floor(rand() * 2 ** 32)
      .toString(16)
      .padStart(8, "0");
  const a = hex();
  const b = hex();
  const c = hex();
  const d = hex();
  return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
}

function hash(rand: () => number): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  let text = "";
  for (let i = 0; i < 10; i++) text += alphabet[Math.floor(rand() * alphabet.length)];
  return text;
}

function nodeName(index: number): string {
  return `worker-${String(index).padStart(5, "0")}`;
}

function node(index: number, rand: () => number): object {
  const name = nodeName(index);
  const images = Array.from({ length: 12 }, (_, i) => ({
    names: [
      `registry.example.com/team-${i}/service@sha256:${uid(rand).replaceAll("-", "")}${uid(rand).replaceAll("-", "")}`,
      `registry.example.com/team-${i}/service:v1.${i}.${index % 10}`,
    ],
    sizeBytes: 10_000_000 + Math.floor(rand() * 500_000_000),
  }));
  return {
    metadata: {
      name,
      uid: uid(rand),
      resourceVersion: String(1000 + index),
      creationTimestamp: time(index),
      labels: {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "proxmox-vm-4c16g",
        "topology.kubernetes.io/zone": `rack-${index % 8}`,
      },
      annotations: {
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        "talos.dev/owned-labels": '["node-role.kubernetes.io/worker"]',
      },
      managedFields: [
        {
          manager: "kubelet",
          operation: "Update",
          apiVersion: "v1",
          time: time(index),
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:metadata": {
              "f:annotations": {
                ".": {},
                "f:volumes.kubernetes.io/controller-managed-attach-detach": {},
              },
              "f:labels": {
                ".": {},
                "f:beta.kubernetes.io/arch": {},
                "f:kubernetes.io/hostname": {},
              },
            },
          },
        },
        {
          manager: "kubelet",
          operation: "Update",
          apiVersion: "v1",
          time: time(index + 86_400),
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:status": {
              "f:conditions": {
                'k:{"type":"DiskPressure"}': { "f:lastHeartbeatTime": {} },
                'k:{"type":"MemoryPressure"}': { "f:lastHeartbeatTime": {} },
                'k:{"type":"PIDPressure"}': { "f:lastHeartbeatTime": {} },
                'k:{"type":"Ready"}': { "f:lastHeartbeatTime": {}, "f:lastTransitionTime": {} },
              },
              "f:images": {},
              "f:nodeInfo": { "f:bootID": {}, "f:kernelVersion": {} },
            },
          },
          subresource: "status",
        },
      ],
    },
    spec: { podCIDR: `10.244.${index % 256}.0/24`, podCIDRs: [`10.244.${index % 256}.0/24`] },
    status: {
      capacity: {
        cpu: "4",
        "ephemeral-storage": "52416492Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        memory: "16382908Ki",
        pods: "110",
      },
      allocatable: {
        cpu: "3950m",
        "ephemeral-storage": "48307241709",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        memory: "15756220Ki",
        pods: "110",
      },
      conditions: ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"].map((type) => ({
        type,
        status: type === "Ready" ? "True" : "False",
        lastHeartbeatTime: time(index + 90_000),
        lastTransitionTime: time(index + 60),
        reason: type === "Ready" ? "KubeletReady" : `KubeletHasNo${type}`,
        message:
          type === "Ready"
            ? "kubelet is posting ready status"
            : `kubelet has no ${type.toLowerCase()}`,
      })),
      addresses: [
        { type: "InternalIP", address: `10.0.${Math.floor(index / 256)}.${index % 256}` },
        { type: "Hostname", address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: uid(rand).replaceAll("-", ""),
        systemUUID: uid(rand),
        bootID: uid(rand),
        kernelVersion: "6.12.6-talos",
        osImage: "Talos (v1.9.1)",
        containerRuntimeVersion: "containerd://2.0.1",
        kubeletVersion: "v1.32.0",
        kubeProxyVersion: "v1.32.0",
        operatingSystem: "linux",
        architecture: "amd64",
      },
      images,
    },
  };
}

interface Workload {
  namespace: string;
  name: string;
  hash: string;
  replicas: number;
  cpu: string;
  memory: string;
}

function pod(workload: Workload, replica: number, nodeIndex: number, rand: () => number): object {
  const name = `${workload.name}-${workload.hash}-${hash(rand).slice(0, 5)}`;
  const created = time(3600 + replica);
  const container = workload.name;
  return {
    metadata: {
      name,
      generateName: `${workload.name}-${workload.hash}-`,
      namespace: workload.namespace,
      uid: uid(rand),
      resourceVersion: String(50_000 + Math.floor(rand() * 1e6)),
      creationTimestamp: created,
      labels: {
        "app.kubernetes.io/instance": workload.name,
        "app.kubernetes.io/name": workload.name,
        "pod-template-hash": workload.hash,
      },
      annotations: { "kubectl.kubernetes.io/restartedAt": time(3000) },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: `${workload.name}-${workload.hash}`,
          uid: uid(rand),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        {
          manager: "kube-controller-manager",
          operation: "Update",
          apiVersion: "v1",
          time: created,
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:metadata": {
              "f:annotations": { ".": {}, "f:kubectl.kubernetes.io/restartedAt": {} },
              "f:generateName": {},
              "f:labels": {
                ".": {},
                "f:app.kubernetes.io/instance": {},
                "f:app.kubernetes.io/name": {},
                "f:pod-template-hash": {},
              },
              "f:ownerReferences": { ".": {}, [`k:{"uid":"${uid(rand)}"}`]: {} },
            },
            "f:spec": {
              "f:containers": {
                [`k:{"name":"${container}"}`]: {
                  ".": {},
                  "f:env": {
                    ".": {},
                    'k:{"name":"LOG_LEVEL"}': { ".": {}, "f:name": {}, "f:value": {} },
                  },
                  "f:image": {},
                  "f:imagePullPolicy": {},
                  "f:livenessProbe": {
                    ".": {},
                    "f:httpGet": { ".": {}, "f:path": {}, "f:port": {} },
                  },
                  "f:name": {},
                  "f:ports": { ".": {}, 'k:{"containerPort":8080,"protocol":"TCP"}': { ".": {} } },
                  "f:readinessProbe": { ".": {}, "f:httpGet": { ".": {}, "f:path": {} } },
                  "f:resources": {
                    ".": {},
                    "f:limits": { ".": {}, "f:memory": {} },
                    "f:requests": {},
                  },
                  "f:terminationMessagePath": {},
                  "f:terminationMessagePolicy": {},
                },
              },
              "f:dnsPolicy": {},
              "f:enableServiceLinks": {},
              "f:restartPolicy": {},
              "f:schedulerName": {},
              "f:securityContext": {},
              "f:terminationGracePeriodSeconds": {},
            },
          },
        },
        {
          manager: "kubelet",
          operation: "Update",
          apiVersion: "v1",
          time: time(3700 + replica),
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:status": {
              "f:conditions": {
                'k:{"type":"ContainersReady"}': { ".": {}, "f:lastProbeTime": {}, "f:status": {} },
                'k:{"type":"Initialized"}': { ".": {}, "f:lastProbeTime": {}, "f:status": {} },
                'k:{"type":"PodReadyToStartContainers"}': { ".": {}, "f:status": {} },
                'k:{"type":"Ready"}': { ".": {}, "f:lastProbeTime": {}, "f:status": {} },
              },
              "f:containerStatuses": {},
              "f:hostIP": {},
              "f:hostIPs": {},
              "f:phase": {},
              "f:podIP": {},
              "f:podIPs": { ".": {}, 'k:{"ip":"10.244.1.7"}': { ".": {}, "f:ip": {} } },
              "f:startTime": {},
            },
          },
          subresource: "status",
        },
      ],
    },
    spec: {
      volumes: [
        {
          name: `kube-api-access-${hash(rand).slice(0, 5)}`,
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
              {
                configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] },
              },
              {
                downwardAPI: {
                  items: [
                    {
                      path: "namespace",
                      fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" },
                    },
                  ],
                },
              },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: [
        {
          name: container,
          image: `registry.example.com/${workload.namespace}/${workload.name}:1.4.2`,
          ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
          env: [{ name: "LOG_LEVEL", value: "info" }],
          resources: {
            limits: { memory: workload.memory },
            requests: { cpu: workload.cpu, memory: workload.memory },
          },
          volumeMounts: [
            {
              name: "kube-api-access",
              readOnly: true,
              mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
            },
          ],
          livenessProbe: {
            httpGet: { path: "/healthz", port: "http", scheme: "HTTP" },
            timeoutSeconds: 1,
            periodSeconds: 10,
            successThreshold: 1,
            failureThreshold: 3,
          },
          readinessProbe: {
            httpGet: { path: "/ready", port: "http", scheme: "HTTP" },
            timeoutSeconds: 1,
            periodSeconds: 10,
            successThreshold: 1,
            failureThreshold: 3,
          },
          terminationMessagePath: "/dev/termination-log",
          terminationMessagePolicy: "File",
          imagePullPolicy: "IfNotPresent",
        },
      ],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      serviceAccountName: "default",
      serviceAccount: "default",
      nodeName: nodeName(nodeIndex),
      securityContext: {},
      schedulerName: "default-scheduler",
      tolerations: [
        {
          key: "node.kubernetes.io/not-ready",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
        {
          key: "node.kubernetes.io/unreachable",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: "PreemptLowerPriority",
    },
    status: {
      phase: "Running",
      conditions: [
        ["PodReadyToStartContainers", 3702],
        ["Initialized", 3700],
        ["Ready", 3710],
        ["ContainersReady", 3710],
        ["PodScheduled", 3700],
      ].map(([type, at]) => ({
        type,
        status: "True",
        lastProbeTime: null,
        lastTransitionTime: time((at as number) + replica),
      })),
      hostIP: `10.0.${Math.floor(nodeIndex / 256)}.${nodeIndex % 256}`,
      hostIPs: [{ ip: `10.0.${Math.floor(nodeIndex / 256)}.${nodeIndex % 256}` }],
      podIP: `10.244.${nodeIndex % 256}.${replica % 256}`,
      podIPs: [{ ip: `10.244.${nodeIndex % 256}.${replica % 256}` }],
      startTime: time(3700 + replica),
      containerStatuses: [
        {
          name: container,
          state: { running: { startedAt: time(3705 + replica) } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image: `registry.example.com/${workload.namespace}/${workload.name}:1.4.2`,
          imageID: `registry.example.com/${workload.namespace}/${workload.name}@sha256:${uid(rand).replaceAll("-", "")}`,
          containerID: `containerd://${uid(rand).replaceAll("-", "")}${uid(rand).replaceAll("-", "")}`,
          started: true,
          volumeMounts: [
            {
              name: "kube-api-access",
              mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
              readOnly: true,
              recursiveReadOnly: "Disabled",
            },
          ],
        },
      ],
      qosClass: "Burstable",
    },
  };
}

function vpa(workload: Workload, rand: () => number): object {
  return {
    apiVersion: "autoscaling.k8s.io/v1",
    kind: "VerticalPodAutoscaler",
    metadata: {
      name: workload.name,
      namespace: workload.namespace,
      uid: uid(rand),
      resourceVersion: String(90_000 + Math.floor(rand() * 1e6)),
      generation: 1,
      creationTimestamp: time(600),
      managedFields: [
        {
          manager: "helm",
          operation: "Update",
          apiVersion: "autoscaling.k8s.io/v1",
          time: time(600),
          fieldsType: "FieldsV1",
          fieldsV1: { "f:spec": { ".": {}, "f:targetRef": {}, "f:updatePolicy": {} } },
        },
        {
          manager: "recommender",
          operation: "Update",
          apiVersion: "autoscaling.k8s.io/v1",
          time: time(900),
          fieldsType: "FieldsV1",
          fieldsV1: { "f:status": { ".": {}, "f:conditions": {}, "f:recommendation": {} } },
        },
      ],
    },
    spec: {
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: workload.name },
      updatePolicy: { updateMode: "Off" },
      resourcePolicy: {
        containerPolicies: [
          {
            containerName: "*",
            minAllowed: { cpu: "25m", memory: "64Mi" },
            maxAllowed: { cpu: "2", memory: "4Gi" },
            controlledResources: ["cpu", "memory"],
          },
        ],
      },
    },
    status: {
      conditions: [
        { type: "RecommendationProvided", status: "True", lastTransitionTime: time(900) },
      ],
      recommendation: {
        containerRecommendations: [
          {
            containerName: workload.name,
            lowerBound: { cpu: "25m", memory: "262144k" },
            target: { cpu: `${10 + Math.floor(rand() * 500)}m`, memory: "262144k" },
            uncappedTarget: { cpu: "12m", memory: "262144k" },
            upperBound: { cpu: "1771m", memory: "1851500k" },
          },
        ],
      },
    },
  };
}

function pdb(workload: Workload, rand: () => number): object {
  return {
    metadata: {
      name: workload.name,
      namespace: workload.namespace,
      uid: uid(rand),
      resourceVersion: "7000",
      generation: 1,
      creationTimestamp: time(600),
    },
    spec: {
      minAvailable: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": workload.name } },
    },
    status: {
      observedGeneration: 1,
      disruptionsAllowed: Math.max(0, workload.replicas - 1),
      currentHealthy: workload.replicas,
      desiredHealthy: 1,
      expectedPods: workload.replicas,
    },
  };
}

function hpa(workload: Workload, rand: () => number): object {
  return {
    metadata: {
      name: workload.name,
      namespace: workload.namespace,
      uid: uid(rand),
      resourceVersion: "8000",
      creationTimestamp: time(600),
    },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: workload.name },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
      ],
    },
    status: { currentReplicas: workload.replicas, desiredReplicas: workload.replicas },
  };
}

function metricsTimestamp(now: Date): string {
  return new Date(now.getTime() - 20_000).toISOString().replace(/\.\d+Z$/, "Z");
}

/** Builds the whole cluster as serialised objects; metrics are stamped relative to `now`. */
export function generateCluster(size: ClusterSize, now = new Date()): GeneratedCluster {
  const rand = random(42);
  const stamp = metricsTimestamp(now);
  const cluster: GeneratedCluster = {
    nodes: [],
    pods: [],
    vpas: [],
    pdbs: [],
    hpas: [],
    nodemetrics: [],
    podmetrics: [],
  };
  for (let i = 0; i < size.nodes; i++) {
    const name = nodeName(i);
    cluster.nodes.push({ name, json: JSON.stringify(node(i, rand)) });
    cluster.nodemetrics.push({
      name,
      json: JSON.stringify({
        metadata: { name, creationTimestamp: stamp },
        timestamp: stamp,
        window: "20.035s",
        usage: { cpu: `${Math.floor(rand() * 3e9)}n`, memory: `${Math.floor(rand() * 12e6)}Ki` },
      }),
    });
  }
  const workloadCount = Math.max(1, Math.ceil(size.pods / 15));
  let podIndex = 0;
  for (let w = 0; w < workloadCount && podIndex < size.pods; w++) {
    const replicas = Math.min(size.pods - podIndex, 5 + (w % 21));
    const workload: Workload = {
      namespace: `team-${String(w % size.namespaces).padStart(4, "0")}`,
      name: `service-${w}`,
      hash: hash(rand),
      replicas,
      cpu: `${50 + (w % 20) * 25}m`,
      memory: `${64 + (w % 16) * 32}Mi`,
    };
    for (let r = 0; r < replicas; r++, podIndex++) {
      const nodeIndex = podIndex % size.nodes;
      const object = pod(workload, r, nodeIndex, rand) as { metadata: { name: string } };
      const name = object.metadata.name;
      cluster.pods.push({ namespace: workload.namespace, name, json: JSON.stringify(object) });
      cluster.podmetrics.push({
        namespace: workload.namespace,
        name,
        json: JSON.stringify({
          metadata: { name, namespace: workload.namespace, creationTimestamp: stamp },
          timestamp: stamp,
          window: "15.107s",
          containers: [
            {
              name: workload.name,
              usage: {
                cpu: `${Math.floor(rand() * 4e8)}n`,
                memory: `${Math.floor(rand() * 5e5)}Ki`,
              },
            },
          ],
        }),
      });
    }
    if (w < size.vpas) {
      cluster.vpas.push({
        namespace: workload.namespace,
        name: workload.name,
        json: JSON.stringify(vpa(workload, rand)),
      });
    }
    if (w < size.pdbs) {
      cluster.pdbs.push({
        namespace: workload.namespace,
        name: workload.name,
        json: JSON.stringify(pdb(workload, rand)),
      });
    }
    if (w < size.hpas) {
      cluster.hpas.push({
        namespace: workload.namespace,
        name: workload.name,
        json: JSON.stringify(hpa(workload, rand)),
      });
    }
  }
  return cluster;
}
