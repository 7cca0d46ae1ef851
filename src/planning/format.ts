/** CPU in millicores as Kubernetes writes it: whole cores plainly, the rest in `m`. */
export function formatCpu(millicores: number): string {
  return millicores % 1000 === 0 ? `${millicores / 1000}` : `${Math.round(millicores)}m`;
}

/** Memory in bytes in binary units, one decimal where it matters. */
export function formatMemory(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, "");
  return `${text} ${units[unit]}`;
}

/** Whole percents, with one decimal below 10 so small values do not read as zero. */
export function formatPercent(percent: number): string {
  if (percent === 0) return "0 %";
  return `${percent.toFixed(percent < 10 ? 1 : 0)} %`;
}

/** Milliseconds as `1h30m`, `10m`, `45s`, `0s`. */
export function formatDuration(ms: number): string {
  let seconds = Math.round(ms / 1000);
  if (seconds === 0) return "0s";
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    const count = Math.floor(seconds / size);
    if (count > 0) parts.push(`${count}${unit}`);
    seconds -= count * size;
  }
  return parts.join("");
}
