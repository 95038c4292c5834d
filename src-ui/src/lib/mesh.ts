import type { MeshStatus, TailscaleState } from './bindings';

const TAILSCALE: Record<TailscaleState, string> = {
  running: 'On the tailnet',
  needs_login: 'Tailscale on the host needs a login',
  stopped: 'Tailscale on the host is stopped',
  absent: 'Tailscale is not running on the host',
  not_used: 'No tailnet (the host does not use Tailscale)',
};

/** One line on how other devices reach the host, and what to do when they cannot. */
export function meshSummary(mesh: MeshStatus): { reach: string; url: string | null; hint: string | null } {
  if (mesh.https_url) return { reach: 'Reachable at', url: mesh.https_url, hint: mesh.hint };
  const name = mesh.tailscale === 'running' && mesh.dns_name ? ` as ${mesh.dns_name.replace(/\.$/, '')}` : '';
  return { reach: `${TAILSCALE[mesh.tailscale] ?? mesh.tailscale}${name}`, url: null, hint: mesh.hint };
}

/** `m:ss` left until `deadline`, or null once it passed. */
export function countdown(deadline: number, now: number): string | null {
  const left = Math.ceil((deadline - now) / 1000);
  if (left <= 0) return null;
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
}
