import { hm, type Point, pointsUsage, roundTo, seededRandom, toJsonLines } from "./trace-lines.ts";

/** One always-on app: requests, and its usage when the house is ordinarily busy. */
interface App {
  name: string;
  cpu: number;
  memoryMi: number;
  useCpu: number;
  useMemoryMi: number;
  /** How the app's activity follows the day. */
  rhythm: "household" | "downloads" | "flat";
}

/** The usual self-hosted stack of a small Talos-on-Proxmox homelab. */
const APPS: App[] = [
  {
    name: "media/sonarr",
    cpu: 100,
    memoryMi: 512,
    useCpu: 60,
    useMemoryMi: 400,
    rhythm: "household",
  },
  {
    name: "media/radarr",
    cpu: 100,
    memoryMi: 512,
    useCpu: 60,
    useMemoryMi: 430,
    rhythm: "household",
  },
  {
    name: "media/prowlarr",
    cpu: 50,
    memoryMi: 256,
    useCpu: 30,
    useMemoryMi: 220,
    rhythm: "household",
  },
  {
    name: "media/bazarr",
    cpu: 50,
    memoryMi: 384,
    useCpu: 25,
    useMemoryMi: 300,
    rhythm: "household",
  },
  {
    name: "media/lidarr",
    cpu: 50,
    memoryMi: 384,
    useCpu: 25,
    useMemoryMi: 280,
    rhythm: "household",
  },
  {
    name: "media/readarr",
    cpu: 50,
    memoryMi: 384,
    useCpu: 20,
    useMemoryMi: 260,
    rhythm: "household",
  },
  {
    name: "media/overseerr",
    cpu: 50,
    memoryMi: 256,
    useCpu: 20,
    useMemoryMi: 210,
    rhythm: "household",
  },
  {
    name: "media/tautulli",
    cpu: 50,
    memoryMi: 256,
    useCpu: 30,
    useMemoryMi: 200,
    rhythm: "household",
  },
  {
    name: "media/qbittorrent",
    cpu: 250,
    memoryMi: 1024,
    useCpu: 200,
    useMemoryMi: 900,
    rhythm: "downloads",
  },
  {
    name: "media/sabnzbd",
    cpu: 250,
    memoryMi: 512,
    useCpu: 150,
    useMemoryMi: 420,
    rhythm: "downloads",
  },
  {
    name: "media/flaresolverr",
    cpu: 100,
    memoryMi: 512,
    useCpu: 30,
    useMemoryMi: 380,
    rhythm: "household",
  },
  {
    name: "home/home-assistant",
    cpu: 250,
    memoryMi: 1024,
    useCpu: 180,
    useMemoryMi: 850,
    rhythm: "household",
  },
  { name: "home/mosquitto", cpu: 25, memoryMi: 64, useCpu: 10, useMemoryMi: 40, rhythm: "flat" },
  {
    name: "home/zigbee2mqtt",
    cpu: 50,
    memoryMi: 256,
    useCpu: 30,
    useMemoryMi: 180,
    rhythm: "flat",
  },
  { name: "home/esphome", cpu: 50, memoryMi: 256, useCpu: 10, useMemoryMi: 150, rhythm: "flat" },
  {
    name: "home/node-red",
    cpu: 50,
    memoryMi: 256,
    useCpu: 25,
    useMemoryMi: 190,
    rhythm: "household",
  },
  {
    name: "monitoring/prometheus",
    cpu: 500,
    memoryMi: 3072,
    useCpu: 350,
    useMemoryMi: 2600,
    rhythm: "flat",
  },
  {
    name: "monitoring/grafana",
    cpu: 100,
    memoryMi: 256,
    useCpu: 30,
    useMemoryMi: 200,
    rhythm: "household",
  },
  {
    name: "monitoring/loki",
    cpu: 250,
    memoryMi: 1024,
    useCpu: 150,
    useMemoryMi: 800,
    rhythm: "flat",
  },
  {
    name: "monitoring/alertmanager",
    cpu: 25,
    memoryMi: 64,
    useCpu: 5,
    useMemoryMi: 40,
    rhythm: "flat",
  },
  {
    name: "apps/paperless",
    cpu: 250,
    memoryMi: 1024,
    useCpu: 80,
    useMemoryMi: 750,
    rhythm: "household",
  },
  {
    name: "apps/immich-server",
    cpu: 250,
    memoryMi: 1024,
    useCpu: 100,
    useMemoryMi: 800,
    rhythm: "household",
  },
  {
    name: "apps/immich-ml",
    cpu: 250,
    memoryMi: 2048,
    useCpu: 80,
    useMemoryMi: 1500,
    rhythm: "household",
  },
  {
    name: "apps/nextcloud",
    cpu: 250,
    memoryMi: 1024,
    useCpu: 120,
    useMemoryMi: 700,
    rhythm: "household",
  },
  {
    name: "apps/vaultwarden",
    cpu: 25,
    memoryMi: 128,
    useCpu: 5,
    useMemoryMi: 80,
    rhythm: "household",
  },
  {
    name: "apps/authentik",
    cpu: 200,
    memoryMi: 768,
    useCpu: 120,
    useMemoryMi: 650,
    rhythm: "household",
  },
  {
    name: "databases/postgres",
    cpu: 250,
    memoryMi: 2048,
    useCpu: 150,
    useMemoryMi: 1700,
    rhythm: "household",
  },
  { name: "databases/redis", cpu: 50, memoryMi: 256, useCpu: 20, useMemoryMi: 120, rhythm: "flat" },
  {
    name: "network/traefik",
    cpu: 100,
    memoryMi: 256,
    useCpu: 60,
    useMemoryMi: 180,
    rhythm: "household",
  },
];

/** Activity by hour: quiet at night, busy in the evening; downloads run overnight. */
function activity(rhythm: App["rhythm"], hour: number): number {
  if (rhythm === "flat") return 1;
  if (rhythm === "downloads") return hour >= 1 && hour < 6 ? 3 : hour >= 18 ? 1.2 : 0.8;
  if (hour < 7) return 0.6;
  if (hour < 17) return 1;
  if (hour < 23) return 1.4;
  return 0.9;
}

/** Half-hourly points over 24 h, repeated daily, with ±15 % noise. */
function appUsage(app: App, random: () => number) {
  const points: Point[] = [];
  for (let slot = 0; slot < 48; slot++) {
    const factor = activity(app.rhythm, slot / 2) * (0.85 + 0.3 * random());
    points.push({
      at: slot * 1800,
      cpu: roundTo(app.useCpu * factor, 5),
      memoryMi: roundTo(app.useMemoryMi * (0.95 + 0.1 * random()), 8),
    });
  }
  return pointsUsage(points, { shape: "linear", period: 86_400 });
}

const PLEX_IDLE_CPU = 300;
const PLEX_CPU_PER_TRANSCODE = 1350;

/**
 * Plex: 0.3 core by day; in the evening (18:00–23:30) transcodes start and stop, up to two at
 * once, each about 1.35 cores: 0.3 → 3 cores. Five-minute steps.
 */
function plexUsage(random: () => number) {
  const points: Point[] = [];
  let sessions = 0;
  for (let slot = 0; slot < 288; slot++) {
    const minute = slot * 5;
    const evening = minute >= hm(18) / 60 && minute < hm(23, 30) / 60;
    if (!evening) sessions = 0;
    else {
      const roll = random();
      if (roll < 0.15 && sessions > 0) sessions -= 1;
      else if (roll > 0.7 && sessions < 2) sessions += 1;
    }
    points.push({
      at: minute * 60,
      cpu: PLEX_IDLE_CPU + sessions * PLEX_CPU_PER_TRANSCODE,
      memoryMi: 1536 + sessions * 512,
    });
  }
  return pointsUsage(points, { shape: "step", period: 86_400 });
}

function appLine(app: App, random: () => number) {
  return {
    type: "pod",
    at: 0,
    name: app.name,
    requests: { cpu: `${app.cpu}m`, memory: `${app.memoryMi}Mi` },
    usage: appUsage(app, random),
  };
}

/**
 * A homelab's day: three Talos workers (4 vCPU, 16 GiB VMs) with the *arr apps and friends all
 * day, Plex transcoding in the evening, and a memory-heavy import at night (library imports
 * and a photo ML batch) that does not fit on the nodes the day needs.
 */
export function homelabDayTrace(): string {
  const random = seededRandom(20_250_604);
  const header = {
    type: "header",
    version: 1,
    name: "homelab-day",
    description:
      "Talos on Proxmox: *arr apps all day, Plex transcodes in the evening (0.3 → 3 cores), a memory-heavy import at 02:00. Generated by src/backtest/traces/homelab-day.ts.",
    start: "2025-06-04T00:00:00Z",
    duration: "24h",
    config: "homelab-day.yml",
    pools: [
      {
        name: "workers",
        count: 3,
        min: 2,
        nodeName: "talos-worker-{index}",
        indexBase: 1,
        node: {
          cpu: "3800m",
          memory: "15Gi",
          labels: { "node.kubernetes.io/pool": "workers" },
        },
      },
    ],
    nodes: [
      {
        name: "talos-cp-1",
        controlPlane: true,
        cpu: "3800m",
        memory: "7Gi",
        labels: { "node-role.kubernetes.io/control-plane": "" },
        taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
      },
    ],
  };
  const lines: object[] = [header, ...APPS.map((app) => appLine(app, random))];
  lines.push({
    type: "pod",
    at: 0,
    name: "media/plex",
    requests: { cpu: "500m", memory: "2Gi" },
    usage: plexUsage(random),
  });
  lines.push(
    {
      type: "pod",
      at: hm(2),
      name: "media/library-import",
      count: 3,
      requests: { cpu: "1", memory: "6Gi" },
      usage: { cpu: "900m", memory: "5600Mi" },
      duration: "75m",
    },
    {
      type: "pod",
      at: hm(2, 10),
      name: "apps/immich-ml-batch",
      requests: { cpu: "1", memory: "4Gi" },
      usage: { cpu: "1500m", memory: "3584Mi" },
      duration: "1h",
    },
  );
  return toJsonLines(lines);
}
