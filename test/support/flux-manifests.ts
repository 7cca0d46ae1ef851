/**
 * Flux source manifests as an infra repo holds them, hand-written after the
 * source.toolkit.fluxcd.io/v1 GitRepository reference (metadata, spec.interval, spec.ref.branch,
 * spec.url) and the layout `flux bootstrap` writes (sources in namespace flux-system).
 */

/** GitRepository `name` in flux-system, following branch main of `url` every `interval`. */
export function gitRepository(name: string, url: string, interval = "10m"): string {
  return `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: ${name}
  namespace: flux-system
spec:
  interval: ${interval}
  ref:
    branch: main
  url: ${url}
`;
}
