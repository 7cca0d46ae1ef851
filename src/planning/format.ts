/** CPU in millicores as Kubernetes writes it: whole cores plainly, the rest in `m`. */
export function formatCpu(millicores: number): string {
  return millicores % 1000 === 0 ? `${millicores / 1000}` : `${Math.round(millicores)}m`;
}

/** Memory in bytes in binary units, one decimal where it matters. */
export function formatMemory(bytes: number): string {
  const { value, unit } = binaryUnit(bytes);
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, "");
  return `${text} ${unit}`;
}

/** Bytes scaled to the largest binary unit (up to TiB) they reach. */
function binaryUnit(bytes: number): { value: number; unit: string } {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return { value, unit: units[unit] as string };
}

/**
 * Two amounts of bytes, `need` more than `have`, with as many decimals as it takes for the
 * printed figures to differ the same way (up to six; past that, in bytes): a request 1 KiB over
 * 15.1 GiB free reads `15.120984 GiB` against `15.120983 GiB`, not `15.1 GiB` against itself.
 * Undefined when one decimal already tells them apart.
 */
export function formatMemoryApart(
  need: number,
  have: number,
): { need: string; have: string } | undefined {
  const plain = { need: formatMemory(need), have: formatMemory(have) };
  if (plain.need !== plain.have) return undefined;
  for (let digits = 2; digits <= 6; digits += 1) {
    const pair = { need: memoryDigits(need, digits), have: memoryDigits(have, digits) };
    if (Number.parseFloat(pair.need) > Number.parseFloat(pair.have)) return pair;
  }
  return { need: `${need} B`, have: `${have} B` };
}

/** Bytes in the unit `formatMemory` picks, with `digits` decimals, trailing zeros dropped. */
function memoryDigits(bytes: number, digits: number): string {
  const { value, unit } = binaryUnit(bytes);
  return `${value.toFixed(digits).replace(/\.?0+$/, "")} ${unit}`;
}

/**
 * An amount of a resource other than cpu and memory: hugepages (`hugepages-2Mi`,
 * `hugepages-1Gi`) are bytes of memory and read as memory does (`512 MiB`, not `536870912`); a
 * device (`nvidia.com/gpu`) is a count.
 */
export function formatExtended(name: string, amount: number): string {
  return name.startsWith("hugepages-") ? formatMemory(amount) : String(amount);
}

/** Whole percents, with one decimal below 10 so small values do not read as zero. */
export function formatPercent(percent: number): string {
  if (percent === 0) return "0 %";
  return `${percent.toFixed(decimals(percent))} %`;
}

/**
 * A percent compared with a threshold, with as many decimals as it takes for the printed value
 * to stand on the same side of the threshold as the value itself: 49.7 against 50 reads
 * `49.7 %`, not `50 %` (which would not be below 50). A value equal to the threshold prints as
 * it; one that no six decimals tell apart from it is rounded toward its own side.
 */
export function formatCompared(
  percent: number,
  threshold: number,
  relation: "≥" | "<" | ">",
): string {
  const holds = (value: number) =>
    relation === "≥"
      ? value >= threshold
      : relation === ">"
        ? value > threshold
        : value < threshold;
  const fits = (value: number) =>
    holds(value) === holds(percent) && (value !== threshold || percent === threshold);
  const plain = formatPercent(percent);
  if (fits(Number.parseFloat(plain))) return plain;
  for (let digits = decimals(percent) + 1; digits <= 6; digits += 1) {
    const text = percent.toFixed(digits);
    if (fits(Number(text))) return `${trimZeros(text)} %`;
  }
  const scale = 10 ** 6;
  const toward = holds(percent) === (relation === "<") ? Math.floor : Math.ceil;
  return `${trimZeros(String(toward(percent * scale) / scale))} %`;
}

/**
 * PERCENT to one decimal, or to as many more (up to 12) as it takes to stand on SIDE of
 * THRESHOLD: SIDE is the sign of PERCENT − THRESHOLD as the caller knows it (from whole amounts,
 * say, which no fraction inexact in binary blurs). 20.04 beside 20 is 20.04, not 20.
 */
export function percentBeside(percent: number, threshold: number, side: number): number {
  for (let digits = 1; digits <= 12; digits++) {
    const scale = 10 ** digits;
    const shown = Math.round(percent * scale) / scale;
    if (Math.sign(shown - threshold) === side) return shown;
  }
  return percent;
}

function decimals(percent: number): number {
  return percent !== 0 && percent < 10 ? 1 : 0;
}

function trimZeros(text: string): string {
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
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
